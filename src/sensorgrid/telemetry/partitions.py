"""Monthly range partitions of the samples table on PostgreSQL.

Samples land in the partition of their month; anything outside the prepared months
lands in the default partition, so no write ever fails for lack of a partition.
``ensure`` creates the months around today (the worker runs it periodically) and
moves rows that already sit in the default partition into the new month.

Creating and dropping a month is DDL, which the application's database role may not run
(docs/deployment.md, "Database roles"): both go through SECURITY DEFINER functions that
migration 0007 creates, owned by the role that runs the migrations, so the worker and
`sensorgrid prune` work under either role.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

PARENT = "telemetry_sample"


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: date  # first day of the month
    end: date  # first day of the next month


def month(year: int, month_: int) -> Partition:
    start = date(year, month_, 1)
    end = date(year + (month_ == 12), month_ % 12 + 1, 1)
    return Partition(f"{PARENT}_{start:%Y%m}", start, end)


def around(today: date, back: int, ahead: int) -> list[Partition]:
    index = today.year * 12 + today.month - 1
    return [month(i // 12, i % 12 + 1) for i in range(index - back, index + ahead + 1)]


def is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def existing() -> list[Partition]:
    """Monthly partitions that exist now, oldest first."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname = %s AND child.relname ~ '_[0-9]{6}$'
            ORDER BY child.relname
            """,
            [PARENT],
        )
        names = [name for (name,) in cursor.fetchall()]
    return [month(int(name[-6:-2]), int(name[-2:])) for name in names]


def _serialize_maintenance() -> None:
    """Two workers changing partitions at once wait for each other (released at commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PARENT])


@transaction.atomic
def ensure(back: int = 1, ahead: int = 3, today: date | None = None) -> list[str]:
    """Create the missing monthly partitions around ``today``; return their names."""
    if not is_partitioned():
        return []
    _serialize_maintenance()
    have = {p.name for p in existing()}
    created = []
    for partition in around(today or datetime.now(UTC).date(), back, ahead):
        if partition.name not in have:
            create(partition)
            created.append(partition.name)
    return created


@transaction.atomic
def create(partition: Partition) -> None:
    """Attach ``partition``, taking over its rows from the default partition."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sensorgrid_create_sample_partition(%s)", [partition.start])


def ends_by(partition: Partition, cutoff: datetime) -> bool:
    return datetime.combine(partition.end, datetime.min.time(), UTC) <= cutoff


@transaction.atomic
def drop_before(cutoff: datetime) -> list[str]:
    """Drop whole monthly partitions that end at or before ``cutoff``."""
    dropped = []
    _serialize_maintenance()
    with connection.cursor() as cursor:
        for partition in existing():
            if ends_by(partition, cutoff):
                cursor.execute("SELECT sensorgrid_drop_sample_partition(%s)", [partition.start])
                dropped.append(partition.name)
    return dropped
