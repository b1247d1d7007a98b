"""The one batch writer: samples, hourly and daily rollups, latest values, receptions.

Only samples that were not stored before count towards rollups, so a repeated
message changes nothing anywhere. Call inside a transaction: the pipeline commits
the batch together with its dead letters (called outside one, a batch is its own).

Receptions (LoRaWAN radio diagnostics) are one bulk insert that skips rows already
stored: unique (node, ts, gateway), so a repeated uplink adds none.

PostgreSQL: COPY into a temporary staging table, then one statement empties it,
inserts the new samples (``ON CONFLICT DO NOTHING … RETURNING``) and upserts rollups
and latest values from exactly the returned rows. SQLite: ``INSERT OR IGNORE`` row by row
(in-process, so cheap), rollups aggregated in Python and upserted with executemany.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from sensorgrid import storable
from sensorgrid.ingest.envelope import Radio
from sensorgrid.ingest.validate import Row
from sensorgrid.telemetry import gateways
from sensorgrid.telemetry.models import Reception, Resolution


@dataclass(frozen=True, slots=True)
class WriteResult:
    inserted: int
    duplicates: int
    #: node id → newest sample timestamp among the inserted rows
    newest: dict[int, datetime]


def write(rows: Sequence[Row], rendered: str | None = None) -> WriteResult:
    """Store ``rows``; ``rendered`` is ``prerender(rows)`` when the caller made it ahead."""
    if not rows:
        return WriteResult(0, 0, {})
    # Inside the caller's transaction this adds no statement. Without one (autocommit)
    # it makes one: on PostgreSQL the COPY would commit alone and ON COMMIT DELETE ROWS
    # empty the staging table before the INSERT read it, every row lost without a word.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            return _write_postgresql(rows, rendered)
        return _write_sqlite(rows)


def prerender(rows: Sequence[Row]) -> str | None:
    """What ``write`` sends of ``rows`` (PostgreSQL's COPY text; SQLite needs none), for a
    caller that renders a batch outside its transaction (``pipeline.prepare``)."""
    if rows and connection.vendor == "postgresql":
        return _copy_text(rows)
    return None


@dataclass(frozen=True, slots=True)
class ReceptionRow:
    """A gateway's reception of an uplink of a resolved node."""

    node_id: int
    ts: datetime
    radio: Radio
    organization_id: int


def write_receptions(rows: Sequence[ReceptionRow]) -> None:
    """Insert the receptions not stored yet (ON CONFLICT DO NOTHING / INSERT OR IGNORE).

    Once the batch commits, its gateways' last reception and position are upserted
    (``telemetry.gateways``: one statement per batch, outside the batch's locks).
    """
    if rows:
        Reception.objects.bulk_create((_reception(row) for row in rows), ignore_conflicts=True)
        heard = [_heard(row) for row in rows]
        transaction.on_commit(lambda: gateways.record(heard))


def _heard(row: ReceptionRow) -> gateways.Heard:
    gateway = storable.escaped(row.radio.gateway)[:100]
    return gateways.Heard(row.organization_id, gateway, row.ts, row.radio.gateway_position)


def _reception(row: ReceptionRow) -> Reception:
    radio = row.radio
    # Whatever a network server sends must fit the columns; out of range is unknown.
    return Reception(
        node_id=row.node_id,
        ts=row.ts,
        # The pipeline refuses unstorable gateway ids; escaping keeps a batch safe anyway.
        gateway_id=storable.escaped(radio.gateway)[:100],
        rssi=radio.rssi,
        snr=radio.snr,
        frequency=_within(radio.frequency, 1, 10**10),
        spreading_factor=_within(radio.spreading_factor, 5, 12),
        frame_counter=_within(radio.frame_counter, 0, 2**32 - 1),
        latitude=radio.position[0] if radio.position else None,
        longitude=radio.position[1] if radio.position else None,
    )


def _within(value: int | None, low: int, high: int) -> int | None:
    return value if value is not None and low <= value <= high else None


def bucket_start(ts: datetime, resolution: int) -> datetime:
    """Start of the UTC hour or day that contains ``ts``."""
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % resolution, tz=UTC)


_PG_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS sensorgrid_staging (
    node_id bigint, quantity_id bigint, ts timestamptz, value double precision
) ON COMMIT DELETE ROWS
"""

_PG_COPY = "COPY sensorgrid_staging (node_id, quantity_id, ts, value) FROM STDIN"

_PG_ROLLUP = """
{name} AS (
    INSERT INTO telemetry_rollup AS r
        (node_id, quantity_id, resolution, bucket, "count", "sum", "min", "max")
    SELECT node_id, quantity_id, {seconds}, date_trunc('{unit}', ts, 'UTC'),
           count(*), sum(value), min(value), max(value)
    FROM inserted GROUP BY 1, 2, 4
    ON CONFLICT (node_id, quantity_id, resolution, bucket) DO UPDATE SET
        "count" = r."count" + excluded."count", "sum" = r."sum" + excluded."sum",
        "min" = least(r."min", excluded."min"), "max" = greatest(r."max", excluded."max")
)"""

_PG_INSERT = f"""
WITH staged AS (
    DELETE FROM sensorgrid_staging RETURNING node_id, quantity_id, ts, value
),
inserted AS (
    INSERT INTO telemetry_sample (node_id, quantity_id, ts, value)
    SELECT node_id, quantity_id, ts, value FROM staged
    ON CONFLICT DO NOTHING
    RETURNING node_id, quantity_id, ts, value
),
{_PG_ROLLUP.format(name="hourly", seconds=Resolution.HOUR, unit="hour").strip()},
{_PG_ROLLUP.format(name="daily", seconds=Resolution.DAY, unit="day").strip()},
latest AS (
    INSERT INTO telemetry_latest AS l (node_id, quantity_id, ts, value)
    SELECT DISTINCT ON (node_id, quantity_id) node_id, quantity_id, ts, value
    FROM inserted ORDER BY node_id, quantity_id, ts DESC
    ON CONFLICT (node_id, quantity_id) DO UPDATE SET ts = excluded.ts, value = excluded.value
    WHERE excluded.ts > l.ts
)
SELECT node_id, max(ts), count(*) FROM inserted GROUP BY node_id
"""


def _write_postgresql(rows: Sequence[Row], rendered: str | None) -> WriteResult:
    with connection.cursor() as cursor:
        cursor.execute(_PG_STAGING)
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(_PG_COPY) as copy:
            copy.write(_copy_text(rows) if rendered is None else rendered)
        # The statement empties the staging table as it reads it (DELETE … RETURNING,
        # no round trip of its own), so a second write in the same transaction starts
        # empty; ON COMMIT DELETE ROWS then truncates the file in place, because
        # temporary tables are never vacuumed and dead rows would pile up on a
        # long-lived connection. A rolled-back batch takes its rows with it.
        cursor.execute(_PG_INSERT)
        per_node = cursor.fetchall()
    inserted = sum(count for _, _, count in per_node)
    return WriteResult(inserted, len(rows) - inserted, {node: ts for node, ts, _ in per_node})


def _copy_text(rows: Sequence[Row]) -> str:
    """The rows as one COPY text block (a third of the Python time of write_row per row).

    Values are finite floats and ints, so nothing needs COPY escaping. The values of
    one message share its timestamp, which is formatted once.
    """
    formatted: dict[datetime, str] = {}
    lines = []
    for node_id, quantity_id, ts, value in rows:
        iso = formatted.get(ts)
        if iso is None:
            iso = formatted[ts] = ts.isoformat()
        lines.append(f"{node_id}\t{quantity_id}\t{iso}\t{value!r}\n")
    return "".join(lines)


_SQLITE_ROLLUP = """
INSERT INTO telemetry_rollup
    (node_id, quantity_id, resolution, bucket, "count", "sum", "min", "max")
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (node_id, quantity_id, resolution, bucket) DO UPDATE SET
    "count" = "count" + excluded."count", "sum" = "sum" + excluded."sum",
    "min" = min("min", excluded."min"), "max" = max("max", excluded."max")
"""

_SQLITE_LATEST = """
INSERT INTO telemetry_latest (node_id, quantity_id, ts, value) VALUES (%s, %s, %s, %s)
ON CONFLICT (node_id, quantity_id) DO UPDATE SET ts = excluded.ts, value = excluded.value
WHERE excluded.ts > telemetry_latest.ts
"""


def _write_sqlite(rows: Sequence[Row]) -> WriteResult:
    adapt = connection.ops.adapt_datetimefield_value
    inserted: list[Row] = []
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(
                "INSERT OR IGNORE INTO telemetry_sample (node_id, quantity_id, ts, value) "
                "VALUES (%s, %s, %s, %s)",
                (row.node_id, row.quantity_id, adapt(row.ts), row.value),
            )
            if cursor.rowcount == 1:
                inserted.append(row)
        rollups: dict[tuple[int, int, int, datetime], list[float]] = {}
        latest: dict[tuple[int, int], Row] = {}
        for row in inserted:
            for resolution in (Resolution.HOUR, Resolution.DAY):
                key = (row.node_id, row.quantity_id, resolution, bucket_start(row.ts, resolution))
                agg = rollups.get(key)
                if agg is None:
                    rollups[key] = [1, row.value, row.value, row.value]
                else:
                    agg[0] += 1
                    agg[1] += row.value
                    agg[2] = min(agg[2], row.value)
                    agg[3] = max(agg[3], row.value)
            current = latest.get((row.node_id, row.quantity_id))
            if current is None or row.ts > current.ts:
                latest[(row.node_id, row.quantity_id)] = row
        cursor.executemany(
            _SQLITE_ROLLUP,
            [(n, q, r, adapt(b), *agg) for (n, q, r, b), agg in rollups.items()],
        )
        cursor.executemany(
            _SQLITE_LATEST,
            [(r.node_id, r.quantity_id, adapt(r.ts), r.value) for r in latest.values()],
        )
    newest: dict[int, datetime] = {}
    for row in latest.values():  # the newest row per quantity holds the newest per node
        if row.ts > newest.get(row.node_id, row.ts - timedelta(1)):
            newest[row.node_id] = row.ts
    return WriteResult(len(inserted), len(rows) - len(inserted), newest)
