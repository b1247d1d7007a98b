"""One subscriber per process and node: the node groups' messages fanned out in process.

Each web process (each event loop) has one ``Hub``. It alone joins the channel layer's
node groups (``live.node.<id>``), on one channel of its own, when the first local
connection follows a node, and leaves them when the last one stops. A message is read,
decoded and rate-limited once per process, and a delta is encoded to JSON once per
process: every connection following the node gets the same text, unless its own rules
(a public installation's period, ``since``) clip the values, when it builds its own.
Served by ``sensorgrid serve`` the text is framed once too (``text_frame``): the same
WebSocket frame's bytes are written to every follower's socket (client_queue).
Before, every connection joined every group itself, so each message was queued,
decoded and dispatched once per connection and encoded once per frame (1,000 clients
following a node meant 1,000 of each).

Rate limit (``SENSORGRID_LIVE_MAX_RATE``): per node at most that many deltas a second
leave the hub; values that arrive meanwhile are merged (newest ts per quantity wins)
and sent together when the node's interval has passed, so every follower gets the
newest value of every quantity.

What a connection may see is still its own business: the hub hands a message to the
connections following the node (``Follower``), which check membership (alerts,
outliers) and clip, as they did when each received the group message itself.
"""

import asyncio
import json
import logging
import math
import re
import struct
from typing import Any, Protocol

from channels.layers import InMemoryChannelLayer
from django.conf import settings

from sensorgrid.isotime import epoch_iso
from sensorgrid.live import metrics
from sensorgrid.live.per_loop import one_per_loop
from sensorgrid.live.publish import ALL_NODES, group

log = logging.getLogger(__name__)

Values = dict[str, tuple[float, float]]  # quantity key → (epoch ts, value)

#: messages the in-memory layer may hold for a hub (its default, 100 per channel, was
#: per connection: one publisher cycle updating more of a process's nodes would be cut)
IN_MEMORY_CAPACITY = 1_000_000
_HUB_CHANNEL = re.compile(r"live\.hub\.")


class Delta:
    """A node's new values as sent to every follower; the JSON text is made once."""

    __slots__ = ("_frame", "_text", "node", "oldest", "values")

    def __init__(self, node: int, values: Values) -> None:
        self.node = node
        self.values = values
        #: the oldest value's ts: a follower whose clip (``since``) is not after it
        #: shares the frame without looking at each value
        self.oldest = min((ts for ts, _ in values.values()), default=math.inf)
        self._text: str | None = None
        self._frame: bytes | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = json.dumps(delta_frame(self.node, self.values))
        return self._text

    def frame(self) -> bytes:
        """The text as a WebSocket frame, made once for every follower."""
        if self._frame is None:
            self._frame = text_frame(self.text())
        return self._frame


def text_frame(text: str) -> bytes:
    """``text`` as one WebSocket text frame from a server (RFC 6455, 5.2): final,
    unmasked, no extension. Such a frame's bytes are the same on every connection."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


def delta_frame(node_id: int, values: Values) -> dict[str, Any]:
    """The ``delta`` frame of the protocol (docs/dashboard.md)."""
    newest = max(ts for ts, _ in values.values())
    return {
        "type": "delta",
        "node": node_id,
        "ts": epoch_iso(newest),
        "values": {key: value for key, (_, value) in sorted(values.items())},
    }


def merge(into: Values, values: dict[str, Any]) -> None:
    """Merge ``{key: (ts, value)}`` into ``into``: the newer ts per key wins."""
    for key, (ts, value) in values.items():
        old = into.get(key)
        if old is None or ts >= old[0]:
            into[key] = (ts, value)


class Follower(Protocol):
    """A connection as the hub sees it (sensorgrid.live.consumers.LiveConsumer)."""

    def on_delta(self, delta: Delta) -> None: ...

    def on_message(self, message: dict[str, Any]) -> None: ...


class Hub:
    def __init__(self, layer) -> None:
        self.layer = layer
        if isinstance(layer, InMemoryChannelLayer):
            # get_capacity() reads [(compiled pattern, capacity)], first match wins.
            capacities: Any = layer.channel_capacity
            if isinstance(capacities, dict):
                capacities = layer.compile_capacities(capacities)
            if not any(pattern is _HUB_CHANNEL for pattern, _ in capacities):
                capacities = [(_HUB_CHANNEL, IN_MEMORY_CAPACITY), *capacities]
            setattr(layer, "channel_capacity", capacities)  # noqa: B010 (typed as a dict)
        self.loop = asyncio.get_running_loop()
        self.followers: dict[int, set[Follower]] = {}
        self.joined: set[int] = set()
        self.channel: str | None = None
        self._task: asyncio.Task | None = None
        self._groups = asyncio.Lock()  # joins and leaves, in order
        self._last: dict[int, float] = {}  # node → when its last delta left
        self._pending: dict[int, Values] = {}  # node → values waiting for the interval
        self._timers: dict[int, asyncio.TimerHandle] = {}

    # -- membership -------------------------------------------------------------------

    async def follow(self, node_id: int, follower: Follower) -> None:
        """Deliver the node's messages to ``follower`` from now on (once joined)."""
        self.followers.setdefault(node_id, set()).add(follower)
        if node_id in self.joined:
            return
        async with self._groups:
            if node_id in self.joined or not self.followers.get(node_id):
                return
            if self.channel is None:
                self.channel = await self.layer.new_channel("live.hub.")
                self._task = self.loop.create_task(self._receive(self.channel))
                await self.layer.group_add(ALL_NODES, self.channel)
            await self.layer.group_add(group(node_id), self.channel)
            self.joined.add(node_id)

    async def unfollow(self, node_id: int, follower: Follower) -> None:
        followers = self.followers.get(node_id)
        if followers is not None:
            followers.discard(follower)
            if followers:
                return
            del self.followers[node_id]
        async with self._groups:
            if node_id not in self.joined or self.followers.get(node_id):
                return
            self.joined.discard(node_id)
            self._forget(node_id)
            await self.layer.group_discard(group(node_id), self.channel)
            if not self.joined and self._task is not None:
                await self.layer.group_discard(ALL_NODES, self.channel)
                # Nobody left: stop reading (a test's event loop may end next).
                self._task.cancel()
                self._task = self.channel = None

    def _forget(self, node_id: int) -> None:
        self._last.pop(node_id, None)
        self._pending.pop(node_id, None)
        timer = self._timers.pop(node_id, None)
        if timer is not None:
            timer.cancel()

    # -- messages ---------------------------------------------------------------------

    async def _receive(self, channel: str) -> None:
        while True:
            message = await self.layer.receive(channel)
            try:
                self.dispatch(message)
            except Exception:
                log.exception("live message not delivered: %r", message.get("type"))

    def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "live.batch":  # a publisher cycle's node messages, in order
            for one in message["messages"]:
                self.dispatch(one)
            return
        node_id = message.get("node")
        if node_id not in self.followers:
            return
        if message["type"] == "live.delta":
            self._delta(node_id, message["values"])
        else:
            for follower in list(self.followers.get(node_id, ())):
                follower.on_message(message)

    def _delta(self, node_id: int, values: dict[str, Any]) -> None:
        waiting = self._pending.get(node_id)
        if waiting is not None:
            metrics.COALESCED.inc()
            merge(waiting, values)
            return
        rate = settings.SENSORGRID_LIVE_MAX_RATE
        interval = 1 / rate if rate > 0 else 0.0
        due = self._last.get(node_id, -math.inf) + interval
        if self.loop.time() >= due:
            merged: Values = {}
            merge(merged, values)
            self._emit(node_id, merged)
        else:
            self._pending[node_id] = {}
            merge(self._pending[node_id], values)
            self._timers[node_id] = self.loop.call_at(due, self._flush, node_id)

    def _flush(self, node_id: int) -> None:
        self._timers.pop(node_id, None)
        values = self._pending.pop(node_id, None)
        if values:
            self._emit(node_id, values)

    def _emit(self, node_id: int, values: Values) -> None:
        self._last[node_id] = self.loop.time()
        delta = Delta(node_id, values)
        for follower in list(self.followers.get(node_id, ())):
            follower.on_delta(delta)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub(layer) -> Hub:
    """The hub of the running event loop (one per process in production)."""
    return one_per_loop(_hubs, lambda: Hub(layer), fits=lambda found: found.layer is layer)
