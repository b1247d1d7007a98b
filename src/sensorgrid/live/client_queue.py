"""What one WebSocket client still has to receive: a send queue that coalesces deltas.

Frames wait in a queue that one task sends; the consumer never awaits the client, so a
slow client cannot slow the channel layer, the hub or the other clients (a client that
stops reading blocks only its own task, at the transport's flow control).

What a client that falls behind gets: while a node's delta still waits unsent, newer
values of that node are merged into it (newest ts per quantity wins, counted in
``sensorgrid_live_coalesced_total``), so the queue holds at most one delta per node
followed and the client, once it reads again, gets the newest value of every quantity
of every node it follows, in one frame per node. A status, alert or outlier frame of a
node is never merged or skipped, and a delta that comes after one is queued behind it
(a node that comes back is ALIVE before its new values show). When more than
``max_pending`` live frames wait, the client is too slow: the queue is dropped and
``too_slow`` is called (the consumer closes with 4001); with deltas coalesced that takes
a client that reads nothing while status and alert frames pile up, or one that follows
more than ``max_pending`` nodes and reads none of them.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from sensorgrid.live import metrics
from sensorgrid.live.fanout import Delta, Values, delta_frame, merge

log = logging.getLogger(__name__)

Frame = dict


class _Pending:
    """A delta waiting in the queue: a shared one, or values merged for this client."""

    __slots__ = ("node", "shared", "values")

    def __init__(self, node: int, shared: Delta | None, values: Values | None) -> None:
        self.node = node
        self.shared = shared
        self.values = values

    def merge(self, values: Values) -> None:
        if self.values is None:
            assert self.shared is not None
            self.values = dict(self.shared.values)
            self.shared = None
        merge(self.values, values)

    def text(self) -> str:
        if self.shared is not None:
            return self.shared.text()
        assert self.values is not None
        return json.dumps(delta_frame(self.node, self.values))


class ClientQueue:
    """The frames one connection still has to receive (deltas coalesced per node)."""

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        too_slow: Callable[[], None],
        max_pending: int,
    ) -> None:
        self._send = send
        self._too_slow = too_slow
        self.max_pending = max_pending
        self.closed = False
        self._frames: deque[Frame | _Pending] = deque()
        self._deltas: dict[int, _Pending] = {}  # node → its delta still in the queue
        self._ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._drain())

    def put(self, frame: Frame, live: bool = False) -> None:
        """Queue a frame. Only ``live`` frames (deltas, status) count toward "too slow":
        a large subscription's snapshots may arrive in one burst."""
        if self.closed:
            return
        node = frame.get("node")
        if node is not None:
            self._deltas.pop(node, None)  # later deltas queue behind this frame
        self._append(frame, live)

    def delta(self, node_id: int, delta: Delta | None, values: Values | None = None) -> None:
        """New values of a node: ``delta`` as every follower gets it, or ``values`` of this
        client's own (clipped); merged into the node's delta if one is still queued."""
        if self.closed:
            return
        waiting = self._deltas.get(node_id)
        if waiting is not None:
            metrics.COALESCED.inc()
            waiting.merge(values if values is not None else delta.values)  # type: ignore[union-attr]
            return
        pending = _Pending(node_id, delta if values is None else None, values)
        self._deltas[node_id] = pending
        self._append(pending, live=True)

    def _append(self, item: "Frame | _Pending", live: bool) -> None:
        self._frames.append(item)
        self._ready.set()
        if live and len(self._frames) > self.max_pending:
            self._fail()

    def forget(self, node_id: int, unsent: bool = False) -> None:
        """The client no longer follows this node; ``unsent``: nor may it get the frames
        of the node still queued (it lost the permission to see them)."""
        self._deltas.pop(node_id, None)
        if unsent and any(_node(item) == node_id for item in self._frames):
            self._frames = deque(item for item in self._frames if _node(item) != node_id)

    def close(self) -> None:
        self.closed = True
        self._task.cancel()

    def _fail(self) -> None:
        metrics.DROPPED_CLIENTS.inc()
        metrics.DROPPED_FRAMES.inc(len(self._frames))
        self._frames.clear()
        self._deltas.clear()
        self.close()
        self._too_slow()

    async def _drain(self) -> None:
        while True:
            await self._ready.wait()
            while self._frames:
                item = self._frames.popleft()
                if isinstance(item, _Pending):
                    if self._deltas.get(item.node) is item:
                        del self._deltas[item.node]
                    kind, text = "delta", item.text()
                else:
                    kind, text = item["type"], json.dumps(item)
                try:
                    await self._send(text)
                except Exception:  # the connection is gone; its disconnect follows
                    log.debug("live frame not sent", exc_info=True)
                    self.closed = True
                    return
                metrics.FRAMES_SENT.labels(kind).inc()
            self._ready.clear()


def _node(item: "Frame | _Pending") -> int | None:
    return item.node if isinstance(item, _Pending) else item.get("node")
