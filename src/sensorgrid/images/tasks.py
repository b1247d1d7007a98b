"""Periodic work of the images app, run by `sensorgrid worker` (safe in several workers)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sensorgrid.images import retention

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="37", hour="3"), name="images.prune")
def prune() -> dict[str, int]:
    """Daily, after the raw samples (telemetry.prune at 03:17): the same retention."""
    deleted = retention.prune()
    if any(deleted.values()):
        log.info("pruned pictures past their organization's raw retention: %s", deleted)
    return deleted
