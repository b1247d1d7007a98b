"""The database work of a web process's subscriptions, done together.

A subscription (``{"node": 7}``, a site, a room…) needs the nodes it covers for its
viewer and their public-period clips, then a snapshot of each node's latest values.
Each connection used to ask on its own in Channels' one database thread, four round
trips per subscription in two calls: after a restart, 1,000 browsers with 6
subscriptions each waited 30–70 s for their turn (docs/performance.md, Live push).

Now one ``Lookups`` per event loop (per web process, like ``recheck.Rechecker``) takes
every request waiting when the thread is free and answers them in one call: per viewer
one query for all its node subscriptions (``visibility.visible_among``) and one for the
clips (``visibility.public_since``); for every snapshot asked, one cache read and one
status query (``latest.snapshots_of``). Site, room, organization and installation
subscriptions are expanded one by one, as before (``visibility.nodes_of``).

A connection still follows its nodes before their snapshot is read, so that a delta
between the two is not lost: the expansion and the snapshot are two requests, which
the connection awaits in that order.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from sensorgrid.live import latest, visibility
from sensorgrid.live.per_loop import one_per_loop
from sensorgrid.storable import MAX_ID

#: requests one call of the database thread answers: between two calls, the other
#: work of the connections (sign-ins, re-checks) gets its turn in that thread
PER_CALL = 500

Key = tuple[str, int]  # a subscription: (kind, id)
Clips = dict[int, float]  # node → epoch of its public period's start


def _future() -> asyncio.Future:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Expansion:
    """Which nodes ``key`` covers for ``user`` (None: not found) and their clips."""

    user: Any
    key: Key
    future: asyncio.Future = field(default_factory=_future)


@dataclass(eq=False)
class Snapshot:
    """The snapshot frames of ``nodes``, clipped by ``since``."""

    nodes: list[int]
    since: Clips
    future: asyncio.Future = field(default_factory=_future)


Request = Expansion | Snapshot


def answer(requests: list[Request]) -> list[Any]:
    """The answer of each request, in order (sync: runs in the database thread)."""
    now = timezone.now()
    answers: dict[int, Any] = {}
    # One viewer: the same user with the same flags (a connection's user object may be
    # older than another's, e.g. from before a superuser was demoted: not mixed).
    viewers: dict[tuple, list[Expansion]] = {}
    for request in requests:
        if isinstance(request, Expansion):
            user = request.user
            viewer = (user.pk, user.is_active, user.is_superuser) if user.is_authenticated else ()
            viewers.setdefault(viewer, []).append(request)
    for expansions in viewers.values():
        user = expansions[0].user
        asked = sorted({pk for kind, pk in (e.key for e in expansions) if kind == "node"})
        visible = visibility.visible_among(user, [pk for pk in asked if 0 < pk <= MAX_ID], now)
        found: dict[int, list[int] | None] = {}
        for expansion in expansions:
            kind, pk = expansion.key
            if kind == "node":
                found[id(expansion)] = [pk] if pk in visible else None
            else:
                found[id(expansion)] = visibility.nodes_of(user, kind, pk, now=now)
        covered = sorted({n for nodes in found.values() if nodes for n in nodes})
        since = visibility.public_since(user, covered, now)
        for expansion in expansions:
            nodes = found[id(expansion)]
            answers[id(expansion)] = (nodes, {n: since[n] for n in nodes or () if n in since})
    snapshots = [request for request in requests if isinstance(request, Snapshot)]
    frames = latest.snapshots_of([(s.nodes, s.since) for s in snapshots])
    for snapshot, its_frames in zip(snapshots, frames, strict=True):
        answers[id(snapshot)] = its_frames
    return [answers[id(request)] for request in requests]


class Lookups:
    """Answers the subscription requests of one event loop's connections together."""

    def __init__(self) -> None:
        self.waiting: list[Request] = []
        self.task: asyncio.Task | None = None

    async def expand(self, user, key: Key) -> tuple[list[int] | None, Clips]:
        """The nodes a subscription covers for ``user`` (None: not found), and the clips
        of those it sees only through a public installation."""
        return await self._ask(Expansion(user, key))

    async def snapshots(self, nodes: list[int], since: Clips) -> list[dict]:
        """One ``snapshot`` frame per node (``latest.snapshots``)."""
        return await self._ask(Snapshot(nodes, since))

    async def _ask(self, request: Request) -> Any:
        self.waiting.append(request)
        if self.task is None:
            self.task = asyncio.ensure_future(self._drain())
        return await request.future

    async def _drain(self) -> None:
        try:
            while self.waiting:
                batch = self.waiting[:PER_CALL]
                del self.waiting[:PER_CALL]
                batch = [r for r in batch if not r.future.done()]  # its connection left
                if not batch:
                    continue
                try:
                    answers = await database_sync_to_async(answer)(batch)
                except Exception as exc:  # a database outage: each asker decides
                    for request in batch:
                        if not request.future.done():
                            request.future.set_exception(exc)
                    continue
                for request, found in zip(batch, answers, strict=True):
                    if not request.future.done():
                        request.future.set_result(found)
        finally:
            self.task = None


_lookups: dict[asyncio.AbstractEventLoop, Lookups] = {}


def lookups() -> Lookups:
    """The lookups of the running event loop (one per process in production)."""
    return one_per_loop(_lookups, Lookups)
