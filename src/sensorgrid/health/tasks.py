"""Housekeeping of the status page's counters, run by `sensorgrid worker`."""

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sensorgrid.health import ingest_rate

KEEP = timedelta(days=2)  # the page reads 2 hours; a margin for looking back by hand


@db_periodic_task(crontab(minute="37", hour="*"), name="health.forget-ingest-minutes")
def forget_ingest_minutes() -> int:
    return ingest_rate.forget_before(timezone.now() - KEEP)
