"""The gateways an organization's receptions know: first and last heard, last position.

``record`` is called by the ingest after a batch committed (``ingest.writer``), with
one row per reception: the batch is reduced to one row per (organization, gateway)
in Python and upserted in one statement. It runs outside the batch's transaction so
that ingesters sharing a busy gateway do not hold its row locked until their commit,
and in a fixed order, so concurrent statements cannot deadlock. A lost update (a
crash between commit and this) is mended by the gateway's next uplink.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from sensorgrid.telemetry.models import Gateway

log = logging.getLogger(__name__)


def online(gateway: Gateway, now: datetime | None = None) -> bool:
    """Whether ``gateway`` heard one of its organization's nodes within
    ``SENSORGRID_GATEWAY_ONLINE_SECONDS`` (docs/lorawan.md, "Radio view")."""
    window = timedelta(seconds=settings.SENSORGRID_GATEWAY_ONLINE_SECONDS)
    return gateway.last_seen >= (now or timezone.now()) - window


@dataclass(frozen=True, slots=True)
class Heard:
    """One reception as the gateway table needs it."""

    organization_id: int
    gateway_id: str
    ts: datetime
    position: tuple[float, float] | None = None


@dataclass(slots=True)
class _Summary:
    first: datetime
    last: datetime
    position: tuple[float, float] | None
    located_at: datetime | None


def summarize(heard: Iterable[Heard]) -> dict[tuple[int, str], _Summary]:
    """One summary per (organization, gateway): oldest and newest reception, newest position."""
    summaries: dict[tuple[int, str], _Summary] = {}
    for row in heard:
        key = (row.organization_id, row.gateway_id)
        summary = summaries.get(key)
        if summary is None:
            summary = summaries[key] = _Summary(row.ts, row.ts, None, None)
        summary.first = min(summary.first, row.ts)
        summary.last = max(summary.last, row.ts)
        if row.position is not None and (
            summary.located_at is None or row.ts >= summary.located_at
        ):
            summary.position, summary.located_at = row.position, row.ts
    return summaries


_TABLE = Gateway._meta.db_table

# Newer wins for last_seen and for the position (by the time of the reception that
# reported it), older for first_seen: batches may arrive out of order (replays).
_UPSERT = f"""
INSERT INTO {_TABLE} AS g
    (organization_id, gateway_id, name, latitude, longitude, located_at, first_seen, last_seen)
VALUES {{values}}
ON CONFLICT (organization_id, gateway_id) DO UPDATE SET
    first_seen = CASE WHEN excluded.first_seen < g.first_seen
                      THEN excluded.first_seen ELSE g.first_seen END,
    last_seen = CASE WHEN excluded.last_seen > g.last_seen
                     THEN excluded.last_seen ELSE g.last_seen END,
    latitude = CASE WHEN {{newer}} THEN excluded.latitude ELSE g.latitude END,
    longitude = CASE WHEN {{newer}} THEN excluded.longitude ELSE g.longitude END,
    located_at = CASE WHEN {{newer}} THEN excluded.located_at ELSE g.located_at END
"""
_NEWER = (
    "excluded.located_at IS NOT NULL"
    " AND (g.located_at IS NULL OR excluded.located_at >= g.located_at)"
)


def _adapted(ts: datetime | None) -> object:
    """A time as the database backend stores it (SQLite: naive UTC text, as the ORM)."""
    return None if ts is None else connection.ops.adapt_datetimefield_value(ts)


def record(heard: Iterable[Heard]) -> None:
    """Upsert the gateways of these receptions (see the module docstring). Never raises:
    the receptions are stored already, and the next uplink mends a failed update."""
    summaries = summarize(heard)
    if not summaries:
        return
    params: list[Any] = []
    for (organization_id, gateway_id), s in sorted(summaries.items()):
        latitude, longitude = s.position if s.position is not None else (None, None)
        located_at, first, last = (_adapted(t) for t in (s.located_at, s.first, s.last))
        params += [organization_id, gateway_id, "", latitude, longitude, located_at, first, last]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(summaries))
    sql = _UPSERT.format(values=values, newer=_NEWER)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        log.exception("gateways of %d receptions not recorded", len(summaries))
