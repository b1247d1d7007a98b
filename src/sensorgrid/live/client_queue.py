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

With a ``FrameWriter`` (``sensorgrid serve``: sensorgrid.runtime.websocket) frames skip
the ASGI send path: a frame is written to the socket at once when nothing waits ahead
of it and the socket takes more (a delta every follower shares is framed once, so its
followers get the same bytes), and frames that waited are written together, in one
write; only a client whose socket is full (uvicorn's flow control) has its frames
queued and coalesced as above. Without one (another ASGI server, the tests'
communicator) every frame goes through ``send``.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from sensorgrid.live import metrics
from sensorgrid.live.fanout import Delta, Values, delta_frame, merge, text_frame

log = logging.getLogger(__name__)

Frame = dict
#: the ASGI scope extension that carries a connection's ``FrameWriter``
FRAMES_EXTENSION = "sensorgrid.frames"


class FrameWriter(Protocol):
    """Writes whole WebSocket frames to a connection's socket (no extension negotiated)."""

    def ready(self) -> bool:
        """Open, and its socket takes more now (not paused by flow control)."""
        ...

    def write(self, data: bytes) -> bool:
        """Write frames; False if the connection is closing or closed (nothing written)."""
        ...

    async def writable(self) -> bool:
        """Wait until the socket takes more; False if the connection closed meanwhile."""
        ...


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

    def frame(self) -> bytes:
        if self.shared is not None:
            return self.shared.frame()
        return text_frame(self.text())


class ClientQueue:
    """The frames one connection still has to receive (deltas coalesced per node)."""

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        too_slow: Callable[[], None],
        max_pending: int,
        writer: FrameWriter | None = None,
    ) -> None:
        self._send = send
        self._writer = writer
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
        if self._append(pending, live=True):
            self._deltas[node_id] = pending

    def _append(self, item: "Frame | _Pending", live: bool) -> bool:
        """Queue ``item``, or write it at once (with a writer); True if it was queued."""
        writer = self._writer
        if writer is not None and not self._frames and writer.ready():
            # Nothing waits ahead of it and the socket takes more: written now.
            if writer.write(_frame_of(item)):
                _SENT[_kind(item)].inc()
            else:
                self.closed = True  # the connection is closing; its disconnect follows
            return False
        self._frames.append(item)
        self._ready.set()
        if live and len(self._frames) > self.max_pending:
            self._fail()
            return False
        return True

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
        if self._writer is not None:
            await self._drain_frames(self._writer)
            return
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
                _SENT[kind].inc()
            self._ready.clear()

    async def _drain_frames(self, writer: FrameWriter) -> None:
        """What waited (the socket was full): all of it in one write once it drains."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            if not self._frames:
                continue
            if not writer.ready() and not await writer.writable():
                self.closed = True  # the connection is gone; its disconnect follows
                return
            frames = []
            while self._frames:
                item = self._frames.popleft()
                if isinstance(item, _Pending) and self._deltas.get(item.node) is item:
                    del self._deltas[item.node]
                frames.append(_frame_of(item))
                _SENT[_kind(item)].inc()
            if not writer.write(b"".join(frames)):
                self.closed = True
                return


class _Sent(dict):
    """Frame type → its FRAMES_SENT child (a labels() lookup per frame costs more)."""

    def __missing__(self, kind: str):
        child = self[kind] = metrics.FRAMES_SENT.labels(kind)
        return child


_SENT = _Sent()


def _kind(item: "Frame | _Pending") -> str:
    return "delta" if isinstance(item, _Pending) else item["type"]


def _frame_of(item: "Frame | _Pending") -> bytes:
    return item.frame() if isinstance(item, _Pending) else text_frame(json.dumps(item))


def _node(item: "Frame | _Pending") -> int | None:
    return item.node if isinstance(item, _Pending) else item.get("node")
