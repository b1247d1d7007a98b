"""Periodic storage maintenance, run by `sensorgrid worker` (safe in several workers)."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sensorgrid.telemetry import dead_letter_retention, partitions, retention

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="7", hour="*"), name="telemetry.partitions")
def ensure_partitions() -> list[str]:
    """Hourly, so a worker that was down on the 1st still creates the month in time."""
    created = partitions.ensure()
    if created:
        log.info("created sample partitions %s", ", ".join(created))
    return created


@db_periodic_task(crontab(minute="17", hour="3"), name="telemetry.prune")
def prune() -> None:
    result = retention.prune()
    if result.dropped_partitions or result.deleted_rows:
        log.info(
            "pruned raw samples: dropped %s, deleted %s",
            result.dropped_partitions or "no partitions",
            result.deleted_rows or "no rows",
        )


@db_periodic_task(crontab(minute="27", hour="3"), name="telemetry.prune_dead_letters")
def prune_dead_letters() -> int:
    deleted = dead_letter_retention.prune()
    if deleted:
        log.info("pruned %d dead letters past SENSORGRID_DEAD_LETTER_RETENTION_DAYS", deleted)
    return deleted
