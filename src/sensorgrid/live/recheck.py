"""The periodic permission re-check of a web process's connections, all together.

Every ``SENSORGRID_LIVE_RECHECK_SECONDS`` each open connection must learn whether the
session that authenticated it still does, and whether every node it follows is still
visible and clipped alike (docs/security.md, "Defence in depth"). Each connection used
to ask on a timer of its own, in two to four queries: at 1,000 connections that was 33
re-checks a second in Channels' one database thread, the thread where every
connection's subscriptions wait their turn too (docs/performance.md, Live push).

Now one ``Rechecker`` per event loop (per web process) checks all of its connections
at once, by viewer: each signed-in user, and all anonymous connections as one. Per
session still open, its user (``permissions.session_user``, as before); per viewer,
its alert audience and which of the nodes its connections follow it may see and from
when (``visibility.visible_among``, ``visibility.public_since``: the rules of a
subscription), one query each over the union of those nodes. The queries grow with the
viewers, not with the connections (anonymous ones: two per process and interval).

A connection whose nodes are all still visible and clipped alike takes its user's
fresh alert audience and goes on. Any other (a node no longer visible or clipped
differently, its session ended) is re-checked thoroughly on its own
(``LiveConsumer.recheck``): its subscriptions expanded again, or closed with 4003.
"""

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from sensorgrid.live import permissions, visibility
from sensorgrid.live.per_loop import one_per_loop
from sensorgrid.tenancy.scoping import NO_ORGANIZATION, Action, OrganizationIds, organization_ids

log = logging.getLogger(__name__)

#: viewers one call of the database thread looks up: between two calls, the
#: connections' own requests (subscriptions) get their turn in that thread
VIEWERS_PER_CALL = 50


class Checked(Protocol):
    """What the rechecker reads and sets of a connection (``LiveConsumer``)."""

    user: Any
    session_key: str | None
    members_of: OrganizationIds
    following: Any  # Counter: node → subscriptions covering it
    since: dict[int, float]
    checks: int  # rechecks begun by the connection itself
    revoked: bool
    gone: bool

    async def recheck(self) -> None: ...


@dataclass
class Viewer:
    """A signed-in user (``pk``), or every anonymous connection (``pk`` None)."""

    pk: int | None
    sessions: set[str] = field(default_factory=set)
    nodes: set[int] = field(default_factory=set)
    # found
    ended: set[str] = field(default_factory=set)  # sessions no longer authenticating pk
    user: Any = None  # as of now; None: no session of pk is still valid
    audience: OrganizationIds = NO_ORGANIZATION
    visible: set[int] = field(default_factory=set)
    since: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Seen:
    """A connection as it was when the check began."""

    connection: Checked
    checks: int
    viewer: int | None
    session_key: str | None
    nodes: frozenset[int]
    since: dict[int, float]


def look_up(viewers: Iterable[Viewer]) -> None:
    """Fill in what each viewer may see now (sync: runs in the database thread)."""
    now = timezone.now()
    for viewer in viewers:
        if viewer.pk is None:
            viewer.user = AnonymousUser()
        for key in sorted(viewer.sessions):
            found = permissions.session_user(key)
            if found is None or found.pk != viewer.pk:
                viewer.ended.add(key)
            else:
                viewer.user = found
        if viewer.user is None:
            continue  # every session of theirs has ended: each connection closes
        nodes = sorted(viewer.nodes)
        viewer.audience = organization_ids(viewer.user, Action.VIEW)
        viewer.visible = visibility.visible_among(viewer.user, nodes, now)
        viewer.since = visibility.public_since(viewer.user, nodes, now)


class Rechecker:
    """Re-checks the connections of one event loop every ``SENSORGRID_LIVE_RECHECK_SECONDS``."""

    def __init__(self) -> None:
        self.connections: set[Checked] = set()
        self.task: asyncio.Task | None = None
        self.thorough: set[asyncio.Future] = set()  # connections re-checked on their own

    def add(self, connection: Checked) -> None:
        self.connections.add(connection)
        if self.task is None and settings.SENSORGRID_LIVE_RECHECK_SECONDS > 0:
            self.task = asyncio.ensure_future(self._periodically())

    def discard(self, connection: Checked) -> None:
        self.connections.discard(connection)
        if not self.connections and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _periodically(self) -> None:
        while True:
            interval = settings.SENSORGRID_LIVE_RECHECK_SECONDS
            if interval <= 0:
                break
            await asyncio.sleep(interval)
            try:
                await self.check()
            except Exception:  # a database outage: try again next time
                log.warning("live permissions not re-checked", exc_info=True)
        self.task = None

    async def check(self) -> None:
        """Check every connection of the loop once (the periodic re-check)."""
        seen: list[Seen] = []
        viewers: dict[int | None, Viewer] = {}
        for connection in list(self.connections):
            if connection.revoked or connection.gone:
                continue
            key = connection.session_key
            pk = None if key is None else connection.user.pk  # None: anonymous
            viewer = viewers.get(pk)
            if viewer is None:
                viewer = viewers[pk] = Viewer(pk)
            if key is not None:
                viewer.sessions.add(key)
            nodes = frozenset(connection.following)
            viewer.nodes |= nodes
            seen.append(
                Seen(
                    connection,
                    connection.checks,
                    pk,
                    key,
                    nodes,
                    dict(connection.since),
                )
            )
        found = list(viewers.values())
        for start in range(0, len(found), VIEWERS_PER_CALL):
            await database_sync_to_async(look_up)(found[start : start + VIEWERS_PER_CALL])
        for one in seen:
            connection = one.connection
            if connection.revoked or connection.gone or connection.checks != one.checks:
                continue  # gone, or it re-checked itself meanwhile (newer than this)
            viewer = viewers[one.viewer]
            unchanged = (
                viewer.user is not None
                and one.session_key not in viewer.ended
                and one.nodes <= viewer.visible
                and {n: s for n, s in viewer.since.items() if n in one.nodes} == one.since
            )
            if unchanged:
                if one.session_key is not None:
                    connection.user = viewer.user
                connection.members_of = viewer.audience
            else:  # as a permission change does: expand again, or close (4003)
                task = asyncio.ensure_future(_recheck(connection))
                self.thorough.add(task)
                task.add_done_callback(self.thorough.discard)


async def _recheck(connection: Checked) -> None:
    try:
        await connection.recheck()
    except Exception:
        log.warning("live permissions not re-checked", exc_info=True)


_checkers: dict[asyncio.AbstractEventLoop, Rechecker] = {}


def rechecker() -> Rechecker:
    """The rechecker of the running event loop (one per process in production)."""
    return one_per_loop(_checkers, Rechecker)
