"""One Datastream's Observations, read from its own store (the fast path for reads).

``walls.visible("Observations", user)`` is the two-store view ``ObservationRow``: right for
``/Observations`` and for filters across Datastreams, but PostgreSQL does not flatten a
UNION ALL of joins, so ``Datastreams(x)/Observations?$orderby=phenomenonTime desc&$top=100``
through it sorts every Observation of the range before returning 100 (≈ 50 ms per 20,000
samples, measured in docs/performance.md). ``of_datastream`` reads the Datastream's store
alone instead: for a samples Datastream the view ``SampleRow`` filtered on the series'
constant node and quantity, which PostgreSQL answers from the samples' primary-key index in
time order (0.3 ms for the same query); exact counts of the series use the same index.

Read code should use it whenever the Datastream is known (a path through
``Datastreams(x)``, an ``$expand=Observations`` of one Datastream done per Datastream, an
Observation id decoded by ``ids.locate``). ``SampleRow`` has ``ObservationRow``'s columns
with the same names, so the ``$filter`` and ``$orderby`` translations of the Observations
set apply unchanged (navigations other than Datastream and FeatureOfInterest excepted).
"""

import time
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import OrderBy
from django.utils import timezone

from sensorgrid.sensorthings import walls
from sensorgrid.sensorthings.models import Datastream, ObservationRow, SampleRow, Store
from sensorgrid.sensorthings.rows import raw_rows, rows_of
from sensorgrid.telemetry import partitions
from sensorgrid.tenancy.models import Membership
from sensorgrid.tenancy.scoping import sees_everything


def of_datastream(datastream: Datastream, user, now: datetime | None = None) -> QuerySet:
    """The Observations of ``datastream`` that ``user`` may see, from its own store.

    A ``SampleRow`` queryset for the samples store, an ``ObservationRow`` one (narrowed to
    the Datastream) otherwise; both carry ``ObservationRow``'s columns. The caller has
    checked that ``user`` sees the Datastream itself (``walls.visible("Datastreams")``);
    the Observations' own wall (a public installation's period) is applied here, as time
    ranges on the index for a reader outside the Datastream's organization (one query for
    the memberships, one for the node's public periods).
    """
    qs: QuerySet
    if datastream.store == Store.SAMPLES:
        qs = SampleRow.objects.filter(
            node_id=datastream.node_id,
            quantity_id=datastream.quantity_id,
            datastream_id=datastream.pk,
        )
    else:
        qs = ObservationRow.objects.filter(datastream_id=datastream.pk, node_id__isnull=True)
    # ``membership`` annotated on the Datastream spares the memberships' statement
    member = getattr(datastream, MEMBER, None)
    if member is None:
        member = datastream.organization_id in walls.member_ids(user)
    if sees_everything(user) or member:
        return qs  # a member (or a superuser) sees all of it
    return qs.filter(public_periods(datastream.node_id, now))


#: The annotation ``membership`` puts on Datastreams.
MEMBER = "_sta_member"


def membership(user) -> Exists | Value:
    """Whether ``user`` is a member of a Datastream's organization, as an annotation
    (``MEMBER``) for the Datastream a path reads Observations of: ``of_datastream`` then
    needs no statement for the memberships (a request costs round trips more than SQL on
    a loaded machine). Walls' rule: only active, signed-in users are members."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Value(False)
    return Exists(
        Membership.objects.filter(user_id=user.pk, organization_id=OuterRef("organization_id"))
    )


def public_periods(node_id: int, now: datetime | None = None) -> Q:
    """Times of ``node_id``'s Observations that its public installations publish, as
    ranges ([start, end), none after ``now``); matches nothing without one."""
    now = now or timezone.now()
    periods = walls.public_installations(now).filter(node_id=node_id).values_list("start", "end")
    allowed = Q(pk__in=[])
    for start, end in periods:
        if end is None or end > now:
            allowed |= Q(phenomenon_time__gte=start, phenomenon_time__lte=now)
        else:
            allowed |= Q(phenomenon_time__gte=start, phenomenon_time__lt=end)
    return allowed


# --- one series in time order across the samples partitions (PostgreSQL) ---------------

#: Seconds a process keeps the time ranges of the samples partitions. A stale list makes
#: reads slower, never different (``by_partitions``).
PARTITIONS_TTL = 300.0
_RANGES: dict[str, tuple[float, tuple[tuple[datetime, datetime], ...]]] = {}


def partition_ranges() -> tuple[tuple[datetime, datetime], ...]:
    """The times the monthly samples partitions hold, adjacent months merged, oldest
    first (empty without partitions: SQLite). Read from the catalogue at most every
    ``PARTITIONS_TTL`` seconds per process and database."""
    if not partitions.is_partitioned():
        return ()
    key = connection.settings_dict["NAME"]
    cached = _RANGES.get(key)
    if cached is not None and time.monotonic() - cached[0] < PARTITIONS_TTL:
        return cached[1]
    merged: list[tuple[datetime, datetime]] = []
    for partition in partitions.existing():
        start = datetime.combine(partition.start, datetime.min.time(), UTC)
        end = datetime.combine(partition.end, datetime.min.time(), UTC)
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    ranges = tuple(merged)
    _RANGES[key] = (time.monotonic(), ranges)
    return ranges


def forget_partitions() -> None:
    """Read the partitions anew on the next query (after creating or dropping one)."""
    _RANGES.clear()


def by_partitions() -> tuple[Q, Q] | None:
    """``(inside, outside)``: the samples' times that the monthly partitions hold, and all
    others (those of the default partition), as conditions on ``phenomenon_time``; None
    without partitions.

    PostgreSQL reads a partitioned table partition after partition in time order (an
    Append that a LIMIT stops at the first partition holding rows) only when the default
    partition is pruned, and a condition on the series alone never prunes it: the newest
    sample of a series was a Merge Append that descends the index of every partition (22
    in the benchmark), for each Datastream of "the latest Observation of every Thing".
    Under ``inside`` the default partition is pruned and the read stops early;
    ``outside`` reads the default partition alone (one index descent, usually empty).
    The two together are every time, whatever partitions exist when a query runs: the
    ranges are a hint for speed, never for the answer.
    """
    ranges = partition_ranges()
    if not ranges:
        return None
    inside = Q(pk__in=[])
    for start, end in ranges:
        inside |= Q(phenomenon_time__gte=start, phenomenon_time__lt=end)
    return inside, ~inside


def _time_first(qs: QuerySet) -> OrderBy | None:
    """The first order term of ``qs`` if it is ``phenomenon_time``."""
    order = list(qs.query.order_by)
    if not order:
        return None
    first = order[0]
    if isinstance(first, str):
        first = OrderBy(F(first.lstrip("-")), descending=first.startswith("-"))
    expression = getattr(first, "expression", None)
    if isinstance(first, OrderBy) and isinstance(expression, F):
        return first if expression.name == "phenomenon_time" else None
    return None


def window_sql(qs: QuerySet, start: int, stop: int) -> tuple[str, list[Any]]:
    """SQL and parameters of rows ``start``…``stop`` of ``qs``, an ordered ``SampleRow``
    queryset of one series (its time is unique in it). Ordered by time first on a
    partitioned samples table: the rows of the partitions (read in order, stopping early)
    and those of the default partition, each limited, merged by time (``by_partitions``);
    otherwise the plain slice."""
    split = by_partitions()
    first = _time_first(qs)
    if split is None or first is None or qs.model is not SampleRow:
        sql, plain = qs[start:stop].query.sql_with_params()
        return sql, list(plain)
    parts: list[str] = []
    params: list[Any] = []
    for condition in split:
        sql, p = qs.filter(condition)[:stop].query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(p)
    direction = "DESC" if first.descending else "ASC"
    statement = (
        f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS _sta_u "
        f"ORDER BY _sta_u.phenomenon_time {direction} LIMIT {stop - start} OFFSET {start}"
    )
    return statement, params


def window(qs: QuerySet, start: int, stop: int) -> list[Any]:
    """Rows ``start``…``stop`` of ``qs`` (``window_sql``) as ``rows.Row``s: one series'
    Observations in time order read partition by partition."""
    if _time_first(qs) is None or qs.model is not SampleRow or by_partitions() is None:
        return rows_of(qs[start:stop])
    sql, params = window_sql(qs, start, stop)
    return raw_rows(qs.model, sql, params, qs.db)
