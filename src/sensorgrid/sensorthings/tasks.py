"""Periodic maintenance of the SensorThings tables, run by ``sensorgrid worker``."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sensorgrid.sensorthings.write import retention

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="37", hour="3"), name="sensorthings.prune")
def prune() -> dict[str, tuple[int, int]]:
    """Daily after telemetry.prune (03:17): STA's Observations and sample details past
    each organization's raw-data retention."""
    result = retention.prune()
    if result.deleted:
        log.info("pruned SensorThings observations and sample details: %s", result.deleted)
    return result.deleted
