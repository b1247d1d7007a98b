"""Reading time series: raw samples, or aggregates over fixed UTC buckets.

Buckets are aligned to the Unix epoch, so 1h and 1d buckets are UTC hours and days,
the same buckets the rollup table keeps. A bucket's point carries the bucket's start
and aggregates only the samples inside the requested [start, end).

1h and 1d read whole buckets from the rollups and aggregate raw samples only for the
partial buckets at the two edges, so every answer is exact (avg = sum / count) and
costs at most two edge scans of raw samples plus one rollup scan. 1m/5m/15m always
aggregate raw samples, in SQL, which needs vendor-specific bucketing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import connection

from sensorgrid.telemetry.models import Resolution, Rollup, Sample

#: bucket name → seconds (None: raw samples)
BUCKETS: dict[str, int | None] = {
    "raw": None,
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": Resolution.HOUR,
    "1d": Resolution.DAY,
}
_ROLLUP_RESOLUTIONS = {int(Resolution.HOUR), int(Resolution.DAY)}


class Agg(StrEnum):
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    SUM = "sum"


@dataclass(frozen=True, slots=True)
class Point:
    ts: datetime
    value: float


class TooManyPoints(Exception):
    """The answer would exceed the point limit; the message says how to narrow it."""


def max_points() -> int:
    return int(settings.SENSORGRID_TIMESERIES_MAX_POINTS)


def query(
    node_id: int,
    quantity_ids: Sequence[int],
    start: datetime,
    end: datetime,
    bucket: str,
    agg: Agg = Agg.AVG,
    limit: int | None = None,
) -> dict[int, list[Point]]:
    """Points of each quantity in [start, end), oldest first; every quantity is a key.

    Buckets without samples have no point. Raises TooManyPoints beyond ``limit``
    (default: the setting), checked before querying when the bucket bounds the count.
    """
    limit = max_points() if limit is None else limit
    result: dict[int, list[Point]] = {q: [] for q in quantity_ids}
    if start >= end or not quantity_ids:
        return result
    seconds = BUCKETS[bucket]
    if seconds is None:
        return _raw(node_id, quantity_ids, start, end, limit, result)
    possible = _bucket_count(start, end, seconds) * len(quantity_ids)
    if possible > limit:
        raise TooManyPoints(
            f"This query could return up to {possible} points, more than the limit of "
            f"{limit}: choose a bigger bucket, a shorter range (from/to) or fewer quantities."
        )
    if seconds in _ROLLUP_RESOLUTIONS:
        stats = _edge_exact(node_id, quantity_ids, start, end, seconds)
    else:
        stats = _aggregate_raw(node_id, quantity_ids, start, end, seconds)
    for (quantity_id, bucket_start), stat in sorted(stats.items()):
        result[quantity_id].append(Point(bucket_start, stat.value(agg)))
    return result


@dataclass(slots=True)
class Stat:
    count: int
    sum: float
    min: float
    max: float

    def merge(self, other: "Stat") -> None:
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def value(self, agg: Agg) -> float:
        if agg == Agg.AVG:
            return self.sum / self.count
        return getattr(self, agg.value)


Stats = dict[tuple[int, datetime], Stat]


def floor_to(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.timestamp() // seconds) * seconds
    return datetime.fromtimestamp(epoch, tz=UTC)


def ceil_to(ts: datetime, seconds: int) -> datetime:
    floor = floor_to(ts, seconds)
    return floor if floor == ts else floor + timedelta(seconds=seconds)


def _bucket_count(start: datetime, end: datetime, seconds: int) -> int:
    return int((ceil_to(end, seconds) - floor_to(start, seconds)).total_seconds()) // seconds


def _raw(node_id, quantity_ids, start, end, limit, result) -> dict[int, list[Point]]:
    rows = list(
        Sample.objects.filter(
            node_id=node_id, quantity_id__in=quantity_ids, ts__gte=start, ts__lt=end
        )
        .order_by("quantity_id", "ts")
        .values_list("quantity_id", "ts", "value")[: limit + 1]
    )
    if len(rows) > limit:
        raise TooManyPoints(
            f"More than {limit} raw samples in this range: choose a bucket (e.g. bucket=5m "
            f"or bucket=1h), a shorter range (from/to) or fewer quantities."
        )
    for quantity_id, ts, value in rows:
        result[quantity_id].append(Point(ts, value))
    return result


def _edge_exact(node_id, quantity_ids, start, end, seconds) -> Stats:
    """Whole buckets from the rollups, the partial ones at the edges from raw samples."""
    whole_from, whole_to = ceil_to(start, seconds), floor_to(end, seconds)
    if whole_from >= whole_to:  # no whole bucket inside: all of it is edge
        return _aggregate_raw(node_id, quantity_ids, start, end, seconds)
    stats = _rollup_stats(node_id, quantity_ids, seconds, whole_from, whole_to)
    # The edge buckets are disjoint from the whole ones, so nothing needs merging.
    if start < whole_from:
        stats |= _aggregate_raw(node_id, quantity_ids, start, whole_from, seconds)
    if whole_to < end:
        stats |= _aggregate_raw(node_id, quantity_ids, whole_to, end, seconds)
    return stats


# Django stores SQLite datetimes as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]';
# strftime('%s') reads it as whole epoch seconds (samples are never before 1970, so
# integer division truncating towards zero is flooring).
_BUCKET_EXPR = {
    "postgresql": "floor(extract(epoch FROM ts) / {s})::bigint * {s}",
    "sqlite": "CAST(strftime('%%s', ts) AS INTEGER) / {s} * {s}",
}


# A bucket's start as whole epoch seconds: a plain integer is read and turned into a
# datetime several times faster than a timestamp through Django's time-zone converters,
# and a 1,000-bucket answer reads 1,000 of them (docs/performance.md, "Long history").
_EPOCH_EXPR = {
    "postgresql": "extract(epoch FROM {column})::bigint",
    "sqlite": "CAST(strftime('%%s', {column}) AS INTEGER)",
}


def _rollup_stats(node_id, quantity_ids, seconds, start, end) -> Stats:
    """The rollups of resolution ``seconds`` with buckets in [start, end), in SQL."""
    vendor = connection.vendor if connection.vendor in _EPOCH_EXPR else "postgresql"
    placeholders = ", ".join(["%s"] * len(quantity_ids))
    sql = (
        f"SELECT quantity_id, {_EPOCH_EXPR[vendor].format(column='bucket')}, "
        f'"count", "sum", "min", "max" FROM {Rollup._meta.db_table} '
        f"WHERE node_id = %s AND quantity_id IN ({placeholders}) AND resolution = %s "
        f"AND bucket >= %s AND bucket < %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [node_id, *quantity_ids, int(seconds), adapt(start), adapt(end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    at = datetime.fromtimestamp
    return {
        (quantity_id, at(bucket, UTC)): Stat(count, total, low, high)
        for quantity_id, bucket, count, total, low, high in rows
    }


def _aggregate_raw(node_id, quantity_ids, start, end, seconds) -> Stats:
    """count/sum/min/max of raw samples in [start, end) per quantity and bucket, in SQL."""
    vendor = connection.vendor if connection.vendor in _BUCKET_EXPR else "postgresql"
    expression = _BUCKET_EXPR[vendor].format(s=int(seconds))
    placeholders = ", ".join(["%s"] * len(quantity_ids))
    sql = (
        f"SELECT quantity_id, {expression} AS b, count(*), sum(value), min(value), max(value) "
        f"FROM telemetry_sample WHERE node_id = %s AND quantity_id IN ({placeholders}) "
        f"AND ts >= %s AND ts < %s GROUP BY quantity_id, b"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [node_id, *quantity_ids, adapt(start), adapt(end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        (quantity_id, datetime.fromtimestamp(int(b), tz=UTC)): Stat(count, total, low, high)
        for quantity_id, b, count, total, low, high in rows
    }
