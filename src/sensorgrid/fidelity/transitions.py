"""Apply the state rule to nodes and record every change, safely under concurrency.

Each change is a conditional UPDATE that names the state and the ``last_seen`` it
was judged from: when two workers (or a worker and the ingest hook) judge the same
node, only one UPDATE matches, so each transition is recorded exactly once, and a
node that sent something meanwhile is not marked MISSING from a stale reading.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from sensorgrid import events
from sensorgrid.fidelity.events import StatusChanged
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.fidelity.states import Thresholds, Verdict, judge
from sensorgrid.inventory.models import Node

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Reading:
    """What the rule needs of one node, read in one query."""

    id: int
    status: str
    last_seen: datetime | None
    interval: int


_COLUMNS = ("id", "status", "last_seen", "sampling_interval", "model__sampling_interval")


def readings(nodes: QuerySet[Node], stream: bool = True) -> Iterator[Reading]:
    """The nodes' readings; ``stream`` reads a large set in chunks (a server-side cursor
    on PostgreSQL), which costs extra round trips for the few nodes of one batch."""
    rows = nodes.values_list(*_COLUMNS)
    for pk, status, last_seen, own, of_model in rows.iterator(CHUNK) if stream else rows:
        yield Reading(pk, status, last_seen, own or of_model or DEFAULT_INTERVAL)


def apply(
    nodes: Iterable[Reading], now: datetime, thresholds: Thresholds
) -> list[NodeStatusChange]:
    """Move every node whose state differs from the rule's verdict; return the changes."""
    changes: list[NodeStatusChange] = []
    batch: list[tuple[Reading, Verdict]] = []
    for reading in nodes:
        verdict = judge(reading.last_seen, reading.interval, now, thresholds)
        if verdict.status != reading.status:
            batch.append((reading, verdict))
        if len(batch) >= CHUNK:
            changes += _record(batch, now)
            batch = []
    if batch:
        changes += _record(batch, now)
    return changes


def _as_read(reading: Reading) -> QuerySet[Node]:
    """The node, only if nothing changed its state or last message since it was read."""
    unchanged = Node.objects.filter(pk=reading.id, status=reading.status)
    if reading.last_seen is None:
        return unchanged.filter(last_seen__isnull=True)
    return unchanged.filter(last_seen=reading.last_seen)


def _record(batch: list[tuple[Reading, Verdict]], now: datetime) -> list[NodeStatusChange]:
    """One short transaction per chunk, so ingest never waits long on a node row."""
    changes = []
    with transaction.atomic():
        for reading, verdict in batch:
            at = verdict.since or now
            if _as_read(reading).update(status=verdict.status, status_since=at):
                changes.append(
                    NodeStatusChange(
                        node_id=reading.id,
                        from_status=reading.status,
                        to_status=verdict.status,
                        at=at,
                    )
                )
        NodeStatusChange.objects.bulk_create(changes)
        if changes:
            events.announce(StatusChanged(tuple(changes)))
    return changes
