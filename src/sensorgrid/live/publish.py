"""Publishing committed samples and health changes to the live channel, off the hot path.

The consumers of ingest's ``Committed`` and fidelity's ``StatusChanged`` only merge
updates into a bounded per-node table (newest value wins) and wake one background
thread; that thread keeps the latest-value cache and sends what a cycle gathered as one
``live.batch`` message (at most ``BATCH`` node messages each) to the ``live.nodes``
group, which the hub of each web process joins (sensorgrid.live.fanout): one PUBLISH a
cycle instead of one per node, a round trip each (1,000 a cycle at 2,000 samples/s).
A single message sent to a node's group (``live.node.<id>``) still reaches its
followers. Ingest never waits for Redis, the cache or a browser.

With the Redis channel layer the thread sends from an event loop of its own, from any
process (ingest, worker, web). The in-memory layer only reaches consumers of this
process and is not safe across event loops: its messages are handed to the ASGI
server's loop (``attach`` at lifespan startup, and at each connection); a process
without one (``sensorgrid ingest`` on the embedded defaults) publishes nothing.
"""

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import close_old_connections

from sensorgrid.alerts.events import AlertChanged
from sensorgrid.fidelity.events import StatusChanged
from sensorgrid.ingest import cache as ingest_cache
from sensorgrid.ingest.events import Committed
from sensorgrid.isotime import iso
from sensorgrid.live import latest, metrics
from sensorgrid.live.latest import Values
from sensorgrid.outliers.events import OutlierScored

log = logging.getLogger(__name__)

#: nodes waiting to be published at most; beyond, updates are dropped (and counted)
MAX_NODES = 100_000
SEND_TIMEOUT = 10.0
#: node messages per ``live.batch`` message at most (a message stays small)
BATCH = 1000
#: the group of every web process's hub: each cycle's node messages, in batches
ALL_NODES = "live.nodes"


def group(node_id: int) -> str:
    return f"live.node.{node_id}"


def user_group(user_id: int) -> str:
    """Every open connection of a signed-in user (permission changes: live.permissions)."""
    return f"live.user.{user_id}"


class Publisher:
    def __init__(self, max_nodes: int = MAX_NODES) -> None:
        self.max_nodes = max_nodes
        self._lock = threading.Lock()
        self._deltas: dict[int, Values] = {}
        self._statuses: dict[int, tuple[str, float]] = {}
        self._alerts: list[tuple[int, int, dict]] = []  # (node, organization, alert)
        self._outliers: list[tuple[int, int, dict]] = []  # (node, organization, score)
        self._notices: list[tuple[int, str | None]] = []  # (user, session signed out)
        self.listeners = 0
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._offered = 0  # updates offered so far …
        self._done = 0  # … and how many of them the thread has handled
        self._thread: threading.Thread | None = None
        self._server_loop: asyncio.AbstractEventLoop | None = None
        self._own_loop: asyncio.AbstractEventLoop | None = None

    # -- the ASGI server's loop (in-memory layer only) --------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver in-memory layer messages on ``loop`` (the one serving WebSockets)."""
        self._server_loop = loop

    def detach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._server_loop is loop:
            self._server_loop = None

    def enabled(self) -> bool:
        layer = get_channel_layer()
        if layer is None:
            return False
        if isinstance(layer, InMemoryChannelLayer):
            # Only this process's clients can hear: with none connected, publishing
            # (and keeping the in-process cache) is work for nobody.
            loop = self._server_loop
            return self.listeners > 0 and loop is not None and not loop.is_closed()
        return True

    def listening(self, change: int) -> None:
        """A WebSocket client of this process connected (+1) or left (-1)."""
        with self._lock:
            self.listeners = max(self.listeners + change, 0)

    # -- producers (any thread; never block) ------------------------------------------

    def offer(self, updates: dict[int, Values]) -> None:
        """Queue new values per node; merged with those still waiting, newest ts wins."""
        with self._lock:
            for node_id, values in updates.items():
                waiting = self._deltas.get(node_id)
                if waiting is not None:
                    metrics.PUBLISH_COALESCED.inc()
                    for key, (ts, value) in values.items():
                        old = waiting.get(key)
                        if old is None or ts >= old[0]:
                            waiting[key] = (ts, value)
                elif len(self._deltas) >= self.max_nodes:
                    metrics.PUBLISH_DROPPED.inc()
                else:
                    self._deltas[node_id] = dict(values)
            self._offered += 1
        self._kick()

    def offer_status(self, statuses: dict[int, tuple[str, float]]) -> None:
        """Queue health changes per node: (status, since in epoch seconds); latest wins."""
        with self._lock:
            self._statuses.update(statuses)
            self._offered += 1
        self._kick()

    def offer_alert(self, node_id: int, organization_id: int, alert: dict) -> None:
        """Queue an alert event (opened, resolved, acknowledged); every one is sent."""
        with self._lock:
            self._alerts.append((node_id, organization_id, alert))
            self._offered += 1
        self._kick()

    def offer_outlier(self, node_id: int, organization_id: int, score: dict) -> None:
        """Queue a scored picture (outliers app); every one is sent."""
        with self._lock:
            self._outliers.append((node_id, organization_id, score))
            self._offered += 1
        self._kick()

    def offer_notices(self, user_ids: list[int], session: str | None = None) -> None:
        """Queue "permissions changed" for these users' connections (``session``: the
        session that signed out, whose connections close)."""
        with self._lock:
            self._notices += [(user_id, session) for user_id in user_ids]
            self._offered += 1
        self._kick()

    def _kick(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="live-publisher", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    # -- the publisher thread ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                deltas, self._deltas = self._deltas, {}
                statuses, self._statuses = self._statuses, {}
                alerts, self._alerts = self._alerts, []
                outliers, self._outliers = self._outliers, []
                notices, self._notices = self._notices, []
                taken = self._offered
            try:
                self._publish(deltas, statuses, alerts, notices, outliers)
            except Exception:  # the next batch must still go out
                log.exception("live publishing failed; %d node updates lost", len(deltas))
            finally:
                close_old_connections()
                with self._progress:
                    self._done = taken
                    self._progress.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything offered so far is published (a process about to exit)."""
        with self._lock:
            target = self._offered
        with self._progress:
            return self._progress.wait_for(lambda: self._done >= target, timeout)

    def _publish(
        self,
        deltas: dict[int, Values],
        statuses: dict[int, tuple[str, float]],
        alerts: Sequence[tuple[int, int, dict[str, Any]]] = (),
        notices: Sequence[tuple[int, str | None]] = (),
        outliers: Sequence[tuple[int, int, dict[str, Any]]] = (),
    ) -> None:
        advanced = latest.merge(deltas) if deltas else {}
        # Permissions first: a connection that lost a node drops it before more values.
        messages: list[tuple[str, dict[str, Any]]] = [
            (user_group(user_id), {"type": "live.permissions", "session": session})
            for user_id, session in notices
        ]
        # Health first: a node that comes back is ALIVE before its new values show.
        node_messages: list[dict[str, Any]] = [
            {"type": "live.status", "node": node_id, "status": status, "since": since}
            for node_id, (status, since) in statuses.items()
        ]
        node_messages += [
            {
                "type": "live.delta",
                "node": node_id,
                "values": {key: [ts, value] for key, (ts, value) in values.items()},
            }
            for node_id, values in advanced.items()
        ]
        node_messages += [
            {"type": "live.alert", "node": node_id, "organization": org, "alert": alert}
            for node_id, org, alert in alerts
        ]
        node_messages += [
            {"type": "live.outlier", "node": node_id, "organization": org, "score": score}
            for node_id, org, score in outliers
        ]
        messages += [
            (ALL_NODES, {"type": "live.batch", "messages": node_messages[n : n + BATCH]})
            for n in range(0, len(node_messages), BATCH)
        ]
        if not messages:
            return
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            loop = self._server_loop
            if loop is None or loop.is_closed():
                return
            future = asyncio.run_coroutine_threadsafe(_send_all(layer, messages), loop)
            try:
                future.result(timeout=SEND_TIMEOUT)
            except FutureTimeout:
                future.cancel()
                log.warning("live publishing timed out on the server's event loop")
                return
        else:
            if self._own_loop is None:
                self._own_loop = asyncio.new_event_loop()
            self._own_loop.run_until_complete(
                asyncio.wait_for(_send_all(layer, messages), SEND_TIMEOUT)
            )
        metrics.PUBLISHED.labels("delta").inc(len(advanced))
        if statuses:
            metrics.PUBLISHED.labels("status").inc(len(statuses))
        if alerts:
            metrics.PUBLISHED.labels("alert").inc(len(alerts))
        if notices:
            metrics.PUBLISHED.labels("permissions").inc(len(notices))
        if outliers:
            metrics.PUBLISHED.labels("outlier").inc(len(outliers))


async def _send_all(layer, messages: list[tuple[str, dict]]) -> None:
    # In order (permission notices first): a few messages a cycle.
    for name, message in messages:
        await layer.group_send(name, message)


publisher = Publisher()

_keys_of: tuple[int, dict[int, str]] = (0, {})


def _quantity_keys() -> dict[int, str]:
    """Quantity id → key, from the ingest directory (already loaded by the batch)."""
    global _keys_of
    quantities = ingest_cache.directory.quantities()
    if _keys_of[0] != id(quantities):
        _keys_of = (id(quantities), {q.id: q.key for q in quantities.values()})
    return _keys_of[1]


def after_ingest(report: Committed) -> None:
    """``Committed`` consumer: hand the batch's newest value per node and quantity to the
    publisher."""
    if not report.rows:
        return
    if not publisher.enabled():
        # Nobody hears this process now: drop what the in-process cache holds of these
        # nodes instead of updating it, so a later snapshot reads the database.
        latest.forget(report.newest)
        return
    keys = _quantity_keys()
    updates: dict[int, Values] = {}
    for row in report.rows:
        key = keys.get(row.quantity_id)
        if key is None:
            continue
        values = updates.setdefault(row.node_id, {})
        ts = row.ts.timestamp()
        old = values.get(key)
        if old is None or ts >= old[0]:
            values[key] = (ts, row.value)
    publisher.offer(updates)


def status_changed(changed: StatusChanged) -> None:
    """``StatusChanged`` consumer: publish each node's new state."""
    if not publisher.enabled():
        return
    publisher.offer_status({c.node_id: (c.to_status, c.at.timestamp()) for c in changed.changes})


def alert_changed(changed: AlertChanged) -> None:
    """``AlertChanged`` consumer: members following the node see it."""
    alert, event = changed.alert, changed.event
    moments = ("opened_at", "resolved_at", "acknowledged_at")
    publisher.offer_alert(
        alert.node_id,
        alert.organization_id,
        {
            "id": alert.pk,
            "event": event,
            "rule": alert.rule_id,
            "severity": alert.severity,
            "message": alert.message,
            "last_value": alert.last_value,
            **{name: iso(getattr(alert, name)) for name in moments},
        },
    )


def outlier_scored(scored: OutlierScored) -> None:
    """``OutlierScored`` consumer: members following the node see each scored picture."""
    if not publisher.enabled():
        return
    publisher.offer_outlier(
        scored.node_id,
        scored.organization_id,
        {
            "id": scored.score_id,
            "image": scored.image_id,
            "name": scored.name,
            "ts": iso(scored.ts),
            "score": scored.score,
            "threshold": scored.threshold,
            "is_outlier": scored.is_outlier,
            "model_version": scored.model_version,
        },
    )
