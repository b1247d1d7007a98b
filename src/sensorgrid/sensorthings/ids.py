"""Observation ids: one integer per Observation of either store (docs/sensorthings.md).

``id = datastream_id << 43 | low``, where ``low`` is

- for a samples-store Datastream: the sample's time in whole milliseconds since
  1970-01-01 UTC (floored; times before 1970 cannot be encoded), so the id leads to the
  sample's primary key (node, quantity, ts) with no table of ids;
- for an observations-store Datastream: the ``Observation`` row's id.

43 bits of milliseconds reach the year 2248; 20 bits of Datastream id leave the whole id
within a signed 64-bit integer (PostgreSQL's bigint, JSON numbers that clients parse as
int64). Two samples of one series in the same millisecond share an id (a documented
limitation: the lookup then finds the first).

The database view ``sensorthings_observation_row`` (migration 0002) computes the same
ids in SQL; ``lookup`` turns an id into a filter on the view's indexed columns, never on
the computed ``id``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

from sensorgrid.sensorthings.errors import StaError

SHIFT = 43
LOW_MASK = (1 << SHIFT) - 1
#: ``datastream_id << SHIFT`` as a multiplier (the view's SQL uses it).
FACTOR = 1 << SHIFT
#: Datastream ids from here on cannot be part of an Observation id.
MAX_DATASTREAM_ID = (1 << 20) - 1
MAX_ID = (MAX_DATASTREAM_ID << SHIFT) | LOW_MASK

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


def encode(datastream_id: int, low: int) -> int:
    """The Observation id of ``low`` (milliseconds or an Observation row id) in
    Datastream ``datastream_id``; 400 for what 63 bits cannot hold."""
    if not 0 < datastream_id <= MAX_DATASTREAM_ID:
        raise StaError(
            400,
            f"Datastream {datastream_id} cannot hold Observations: Observation ids "
            f"leave room for Datastream ids up to {MAX_DATASTREAM_ID}.",
        )
    if not 0 <= low <= LOW_MASK:
        raise StaError(400, f"{low} does not fit the {SHIFT} low bits of an Observation id.")
    return (datastream_id << SHIFT) | low


def millis(ts: datetime) -> int:
    """Whole milliseconds since 1970 (floored); 400 before 1970 or after 2248."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    ms = (ts - EPOCH) // ONE_MS
    if not 0 <= ms <= LOW_MASK:
        raise StaError(
            400,
            f"Time {ts.isoformat()} cannot be stored in a numeric Datastream: its "
            "Observations take times from 1970-01-01 to 2248.",
        )
    return ms


def from_millis(ms: int) -> datetime:
    return EPOCH + ms * ONE_MS


def encode_sample(datastream_id: int, ts: datetime) -> int:
    """The id of the sample at ``ts`` of samples-store Datastream ``datastream_id``."""
    return encode(datastream_id, millis(ts))


def encode_observation(datastream_id: int, observation_id: int) -> int:
    """The id of ``Observation`` row ``observation_id`` of Datastream ``datastream_id``."""
    return encode(datastream_id, observation_id)


def decode(n: int) -> tuple[int, int]:
    """``(datastream_id, low)`` of an Observation id; ``(0, 0)``-like garbage for ids
    no Observation has (negative or too large ids give datastream 0, which no row has)."""
    if not 0 <= n <= MAX_ID:
        return 0, 0
    return n >> SHIFT, n & LOW_MASK


@dataclass(frozen=True, slots=True)
class Located:
    """Where Observation ``id`` lives: its Datastream and the store's indexed key.

    ``q`` filters ``ObservationRow`` (the view) on indexed columns: for a sample
    (node, quantity, ts in [ms, ms + 1 ms)), for an observation its row id. ``sample``
    gives the same as keyword arguments for ``telemetry.Sample`` / ``SampleDetails``
    (None for the observations store); ``observation_id`` the ``Observation`` pk.
    """

    id: int
    datastream_id: int
    store: str
    q: Q
    sample: dict | None
    observation_id: int | None


def locate(n: int) -> Located | None:
    """The indexed lookup of Observation id ``n``, or None when no Datastream has it
    (one query: the Datastream's store and series). The caller still applies the walls
    (``walls.visible``) to the rows ``q`` selects."""
    from sensorgrid.sensorthings.models import Datastream, Store

    datastream_id, low = decode(n)
    if datastream_id == 0:
        return None
    row = (
        Datastream.objects.filter(pk=datastream_id)
        .values_list("store", "node_id", "quantity_id")
        .first()
    )
    if row is None:
        return None
    store, node_id, quantity_id = row
    if store == Store.SAMPLES:
        start = from_millis(low)
        sample = {
            "node_id": node_id,
            "quantity_id": quantity_id,
            "ts__gte": start,
            "ts__lt": start + ONE_MS,
        }
        q = Q(
            datastream_id=datastream_id,
            node_id=node_id,
            quantity_id=quantity_id,
            phenomenon_time__gte=start,
            phenomenon_time__lt=start + ONE_MS,
        )
        return Located(n, datastream_id, store, q, sample, None)
    q = Q(datastream_id=datastream_id, observation_id=low)
    return Located(n, datastream_id, store, q, None, low)


def lookup(n: int) -> Q:
    """A filter on ``ObservationRow`` for Observation id ``n`` (matches nothing for an
    id no Datastream has)."""
    located = locate(n)
    return located.q if located is not None else Q(pk__in=[])
