"""Count every committed batch into its UTC minute (``IngestMinute``).

It follows each batch (settings ``AFTER_COMMIT_CONSUMERS``, in-transaction): inside an
HTTP request's batch transaction, as its last statement, so the request costs no commit
of its own for it; after a batch of the MQTT ingester, after the ack, in autocommit.
It adds with ONE upsert statement, so it holds the minute's row lock only until that
commit and two processes adding to the same minute never lose a count. Plain
``INSERT … ON CONFLICT … DO UPDATE`` is understood by PostgreSQL and by SQLite ≥ 3.24
alike; the ORM's ``update_conflicts`` would overwrite the counters instead of adding.

The minute is the time of the commit (or just before it), not the devices' timestamps:
the page shows how much the platform takes in now, and a backlog replayed late counts
when stored.
"""

from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

from sensorgrid.health.models import IngestMinute
from sensorgrid.ingest.events import Committed


def minute_of(moment: datetime) -> datetime:
    """The start of ``moment``'s minute, in UTC."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def after_ingest(report: Committed) -> None:
    if report.rows or report.dead_letters:
        add(timezone.now(), len(report.rows), report.dead_letters)


def add(moment: datetime, values: int, dead_letters: int) -> None:
    """Add to the counters of ``moment``'s minute, creating its row if needed."""
    meta = IngestMinute._meta
    quote = connection.ops.quote_name
    table, minute, value_count, dead_letter_count = (
        quote(meta.db_table),
        quote(meta.get_field("minute").column),
        quote(meta.get_field("value_count").column),
        quote(meta.get_field("dead_letter_count").column),
    )
    at = meta.get_field("minute").get_db_prep_value(minute_of(moment), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({minute}, {value_count}, {dead_letter_count}) "
            f"VALUES (%s, %s, %s) ON CONFLICT ({minute}) DO UPDATE SET "
            f"{value_count} = {table}.{value_count} + excluded.{value_count}, "
            f"{dead_letter_count} = {table}.{dead_letter_count} + excluded.{dead_letter_count}",
            [at, values, dead_letters],
        )


def forget_before(cutoff: datetime) -> int:
    """Delete the minutes before ``cutoff``; returns how many. For a periodic task."""
    deleted, _ = IngestMinute.objects.filter(minute__lt=cutoff).delete()
    return deleted
