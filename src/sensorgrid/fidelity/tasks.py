"""The fidelity sweep, every minute on the worker."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sensorgrid.fidelity.sweep import sweep as sweep_nodes

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"), name="fidelity.sweep")
def sweep() -> int:
    changes = sweep_nodes()
    for change in changes:
        log.info(
            "node %s: %s → %s",
            change.node_id,
            change.from_status,
            change.to_status,
            extra={"node": change.node_id},
        )
    return len(changes)
