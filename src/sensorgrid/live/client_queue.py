"""What one WebSocket client still has to receive: rate-limited deltas and a send queue.

Per node at most ``rate`` deltas a second reach the client; values that come in
meanwhile are merged (newer ts wins per quantity) and sent together when the node's
interval has passed. Frames wait in a queue that one task sends; the consumer never
awaits the client, so a slow client cannot slow the channel layer or the other
clients. When more than ``max_pending`` frames wait, the client is too slow: the
queue is dropped and ``too_slow`` is called (the consumer closes with 4001).
"""

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable

from sensorgrid.isotime import epoch_iso
from sensorgrid.live import metrics

log = logging.getLogger(__name__)

Frame = dict


class ClientQueue:
    """The frames one connection still has to receive (deltas rate-limited per node)."""

    def __init__(
        self,
        send: Callable[[Frame], Awaitable[None]],
        too_slow: Callable[[], None],
        rate: float,
        max_pending: int,
    ) -> None:
        self._send = send
        self._too_slow = too_slow
        self.interval = 1 / rate if rate > 0 else 0.0
        self.max_pending = max_pending
        self.closed = False
        self._loop = asyncio.get_running_loop()
        self._frames: deque[Frame] = deque()
        self._ready = asyncio.Event()
        self._pending: dict[int, dict[str, tuple[float, float]]] = {}
        self._last: dict[int, float] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._task = self._loop.create_task(self._drain())

    def put(self, frame: Frame, live: bool = False) -> None:
        """Queue a frame. Only ``live`` frames (deltas, status) count toward "too slow":
        a large subscription's snapshots may arrive in one burst."""
        if self.closed:
            return
        self._frames.append(frame)
        self._ready.set()
        if live and len(self._frames) > self.max_pending:
            self._fail()

    def delta(self, node_id: int, values: dict[str, list]) -> None:
        """New values of a node, ``{key: [epoch ts, value]}``: send now or merge and wait."""
        if self.closed:
            return
        waiting = self._pending.get(node_id)
        if waiting is not None:
            metrics.COALESCED.inc()
            _merge(waiting, values)
            return
        due = self._last.get(node_id, -math.inf) + self.interval
        if self._loop.time() >= due:
            self._emit(node_id, {key: (ts, value) for key, (ts, value) in values.items()})
        else:
            self._pending[node_id] = {}
            _merge(self._pending[node_id], values)
            self._timers[node_id] = self._loop.call_at(due, self._flush, node_id)

    def forget(self, node_id: int, unsent: bool = False) -> None:
        """The client no longer follows this node; ``unsent``: nor may it get the frames
        of the node still queued (it lost the permission to see them)."""
        if unsent and any(frame.get("node") == node_id for frame in self._frames):
            kept = [frame for frame in self._frames if frame.get("node") != node_id]
            self._frames = deque(kept)
        self._pending.pop(node_id, None)
        self._last.pop(node_id, None)
        timer = self._timers.pop(node_id, None)
        if timer:
            timer.cancel()

    def close(self) -> None:
        self.closed = True
        self._task.cancel()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _flush(self, node_id: int) -> None:
        self._timers.pop(node_id, None)
        values = self._pending.pop(node_id, None)
        if values and not self.closed:
            self._emit(node_id, values)

    def _emit(self, node_id: int, values: dict[str, tuple[float, float]]) -> None:
        self._last[node_id] = self._loop.time()
        newest = max(ts for ts, _ in values.values())
        frame = {
            "type": "delta",
            "node": node_id,
            "ts": epoch_iso(newest),
            "values": {key: value for key, (_, value) in sorted(values.items())},
        }
        self.put(frame, live=True)

    def _fail(self) -> None:
        metrics.DROPPED_CLIENTS.inc()
        metrics.DROPPED_FRAMES.inc(len(self._frames) + len(self._pending))
        self._frames.clear()
        self._pending.clear()
        self.close()
        self._too_slow()

    async def _drain(self) -> None:
        while True:
            await self._ready.wait()
            while self._frames:
                frame = self._frames.popleft()
                try:
                    await self._send(frame)
                except Exception:  # the connection is gone; its disconnect follows
                    log.debug("live frame not sent", exc_info=True)
                    self.closed = True
                    return
                metrics.FRAMES_SENT.labels(frame["type"]).inc()
            self._ready.clear()


def _merge(into: dict[str, tuple[float, float]], values: dict[str, list]) -> None:
    for key, (ts, value) in values.items():
        old = into.get(key)
        if old is None or ts >= old[0]:
            into[key] = (ts, value)
