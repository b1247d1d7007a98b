"""``/ws/live/``: subscribe to nodes, sites, rooms, organizations or installations and
receive snapshots, deltas and health changes (protocol: docs/dashboard.md).

What a connection may see is checked again whenever its user's permissions change
(``live.permissions`` messages, sensorgrid.live.permissions) and every
``SENSORGRID_LIVE_RECHECK_SECONDS``, with all the process's connections together
(sensorgrid.live.recheck): nodes no longer visible are dropped at once, and a
connection whose session ended (signed out, user deactivated, password changed) is
closed with 4003.
"""

import asyncio
import json
import logging
from collections import Counter
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from sensorgrid.isotime import epoch_iso
from sensorgrid.live import fanout, latest, lookups, permissions, recheck, visibility
from sensorgrid.live.client_queue import FRAMES_EXTENSION, ClientQueue
from sensorgrid.live.publish import publisher, user_group
from sensorgrid.tenancy.scoping import NO_ORGANIZATION, Action, organization_ids

log = logging.getLogger(__name__)

TOO_SLOW = 4001
REVOKED = 4003  # the session that authenticated the connection ended
SHAPE = 'expected {"subscribe": {…}} or {"unsubscribe": {…}}'
SUBSCRIPTION = "expected exactly one of node, site, room, organization, installation with an id"
NOT_JSON = "frames must be JSON text objects"
#: requests (subscribe, unsubscribe) of a connection waiting to be handled while it goes
#: on reading; beyond, it reads no further frame until one is handled
MAX_WAITING_REQUESTS = 100


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        # Where the in-memory layer's messages must be delivered (lifespan does it too).
        publisher.attach(asyncio.get_running_loop())
        publisher.listening(+1)
        self.counted = True
        # Alerts are for members only, also on nodes they follow through a public page.
        self.user, self.session_key, self.members_of = await database_sync_to_async(_authenticated)(
            self.scope
        )
        self.subscriptions: dict[tuple[str, int], list[int]] = {}
        self.following: Counter[int] = Counter()  # node → subscriptions that cover it
        # Node → epoch of its public installation's start, for nodes this user sees only
        # through one: older values are not shown (a public installation's period).
        self.since: dict[int, float] = {}
        # Subscribing and re-checking both change the subscriptions, across awaits.
        self.lock = asyncio.Lock()
        self.revoked = False
        self.checks = 0  # rechecks begun (the periodic one leaves a newer result alone)
        self.gone = False  # disconnected: requests still waiting are not handled
        self.requests: set[asyncio.Future] = set()
        if self.session_key is not None:
            await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        # Node groups are joined once per process, by the hub, which hands this
        # connection the messages of the nodes it follows (on_delta, on_message).
        self.hub = fanout.hub(self.channel_layer)
        # `sensorgrid serve` writes frames to the socket itself (sensorgrid.runtime.websocket).
        extensions: dict[str, Any] = self.scope.get("extensions") or {}
        writer = extensions.get(FRAMES_EXTENSION)
        self.queue = ClientQueue(
            self.send_text, self.too_slow, settings.SENSORGRID_LIVE_MAX_PENDING, writer
        )
        await self.accept()
        self.rechecker = recheck.rechecker()
        self.rechecker.add(self)
        self.lookups = lookups.lookups()

    async def dispatch(self, message) -> None:
        """Channels' dispatch without its ``aclose_old_connections()``: that is a turn of
        the one database thread before every frame and group message, so while the
        thread answered everybody's subscriptions a client's next frame was not even
        read (its subscriptions sent at once arrived one per turn). Every database call
        of this consumer goes through ``database_sync_to_async`` (lookups too), which
        closes old connections before and after it."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code) -> None:
        self.gone = True
        waiting = getattr(self, "requests", ())
        if waiting:  # none follows anything more, the one being handled finishes
            await asyncio.gather(*waiting, return_exceptions=True)
        if getattr(self, "counted", False):
            publisher.listening(-1)
            self.counted = False
        if hasattr(self, "rechecker"):
            self.rechecker.discard(self)
        if hasattr(self, "queue"):
            async with self.lock:  # a re-check under way ends first; later ones see gone
                self.queue.close()
                for node_id in list(self.following):
                    await self.hub.unfollow(node_id, self)
                self.following.clear()
            if self.session_key is not None:
                await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        """Handle a request in a task of its own, in order (``self.lock``), so that the
        connection goes on reading meanwhile: uvicorn reads no further frame while the
        application handles one, so a burst of subscriptions, each waiting its turn in
        Channels' one database thread, held up the client's pong to the server's
        keepalive ping (1011 after 20 s: clients connecting at once under load)."""
        if len(self.requests) >= MAX_WAITING_REQUESTS:
            await self._request(content)  # a flood: read no further until handled
            return
        task = asyncio.ensure_future(self._request(content))
        self.requests.add(task)
        task.add_done_callback(self.requests.discard)

    async def _request(self, content) -> None:
        ahead = self._look_ahead(content)
        try:
            async with self.lock:
                if not (self.revoked or self.gone):
                    await self._handle(content, ahead)
        except Exception:
            log.exception("live request failed")
            await self.close(code=1011)
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()  # not handled (gone, revoked, failed)
            elif ahead is not None and not ahead.cancelled():
                ahead.exception()  # retrieved: the failure was handled or is moot

    def _look_ahead(self, content) -> asyncio.Future | None:
        """A subscription's nodes, looked up as soon as it arrives rather than when its
        turn comes: the subscriptions a client sends at once then go to the database
        together (lookups), while they are still answered in order."""
        if isinstance(content, dict) and len(content) == 1:
            subscription = content.get("subscribe")
            key = _parse(subscription) if isinstance(subscription, dict) else None
            if key is not None:
                return asyncio.ensure_future(self.lookups.expand(self.user, key))
        return None

    async def _handle(self, content, ahead: asyncio.Future | None = None) -> None:
        if content is None:
            self.queue.put({"type": "error", "error": NOT_JSON})
            return
        if not isinstance(content, dict) or len(content) != 1:
            self.queue.put({"type": "error", "error": SHAPE})
            return
        action, subscription = next(iter(content.items()))
        if action not in ("subscribe", "unsubscribe") or not isinstance(subscription, dict):
            self.queue.put({"type": "error", "error": SHAPE})
            return
        key = _parse(subscription)
        if key is None:
            self.queue.put({"type": "error", "subscription": subscription, "error": SUBSCRIPTION})
            return
        if action == "subscribe":
            await self.subscribe(key, ahead)
        else:
            await self.release(self.subscriptions.pop(key, []))

    async def subscribe(self, key: tuple[str, int], ahead: asyncio.Future | None = None) -> None:
        kind, pk = key
        # With every other waiting request of the process, in one database call (lookups).
        nodes, since = await (ahead or self.lookups.expand(self.user, key))
        if nodes is None:
            self.queue.put({"type": "error", "subscription": {kind: pk}, "error": "not found"})
            return
        await self.follow(nodes, since)
        await self.release(self.subscriptions.get(key, []))  # a repeated subscribe refreshes
        self.subscriptions[key] = nodes
        self.queue.put({"type": "subscribed", "subscription": {kind: pk}, "nodes": nodes})
        # Read after following: a value committed in between is in a delta, not lost.
        clips = {n: self.since[n] for n in nodes if n in self.since}
        for frame in await self.lookups.snapshots(nodes, clips):
            self.queue.put(frame)

    async def follow(self, nodes: list[int], since: dict[int, float]) -> None:
        for node_id in nodes:
            if not self.following[node_id]:
                await self.hub.follow(node_id, self)
            self.following[node_id] += 1
            if node_id in since:
                self.since[node_id] = since[node_id]
            else:
                self.since.pop(node_id, None)

    async def release(self, nodes: list[int], revoked: bool = False) -> None:
        for node_id in nodes:
            self.following[node_id] -= 1
            if self.following[node_id] <= 0:
                del self.following[node_id]
                self.since.pop(node_id, None)
                self.queue.forget(node_id, unsent=revoked)
                await self.hub.unfollow(node_id, self)

    # Permission changes: a message to the user's group; the periodic re-check of all
    # the process's connections (sensorgrid.live.recheck) calls recheck() when one of
    # them sees a change.

    async def live_permissions(self, message: dict) -> None:
        if message.get("session") is not None and message["session"] == self.session_key:
            await self.revoke("signed out")
            return
        await self.recheck()

    async def recheck(self) -> None:
        """Apply what this user may see now to every subscription of the connection."""
        async with self.lock:
            if self.revoked or self.gone:  # gone: it must not follow anything again
                return
            self.checks += 1
            keys = list(self.subscriptions)
            found = await database_sync_to_async(_recheck)(self.user, self.session_key, keys)
            if found is None:
                await self.revoke("signed out")
                return
            self.user, self.members_of, expanded, since = found
            for key in keys:
                old, new = self.subscriptions[key], expanded[key]
                # New nodes, and nodes now clipped differently, get a fresh snapshot.
                fresh = [n for n in new or () if n not in old or self.since.get(n) != since.get(n)]
                if new == old and not fresh:
                    continue
                kind, pk = key
                if new is None:
                    del self.subscriptions[key]
                    self.queue.put(
                        {"type": "unsubscribed", "subscription": {kind: pk}, "error": "not found"}
                    )
                else:
                    await self.follow(new, since)
                    self.subscriptions[key] = new
                    self.queue.put({"type": "subscribed", "subscription": {kind: pk}, "nodes": new})
                    for frame in await database_sync_to_async(latest.snapshots)(fresh, self.since):
                        self.queue.put(frame)
                await self.release(old, revoked=True)

    async def revoke(self, reason: str) -> None:
        """The session ended: nothing more is sent, and the connection is closed."""
        self.revoked = True
        self.queue.close()
        for nodes in self.subscriptions.values():
            await self.release(nodes, revoked=True)
        self.subscriptions.clear()
        await self.close(code=REVOKED, reason=reason)

    # Messages from the publisher (sensorgrid.live.publish) to the node groups, handed
    # over by the hub (sensorgrid.live.fanout) for the nodes this connection follows.

    async def send_text(self, text: str) -> None:
        await self.send(text_data=text)

    def on_delta(self, delta: fanout.Delta) -> None:
        node_id = delta.node
        if node_id not in self.following:
            return
        since = self.since.get(node_id)
        if since is not None and since > delta.oldest:  # some values are older: clip
            values = latest.clip(delta.values, since)
            if len(values) != len(delta.values):  # this client's own, clipped values
                if values:
                    self.queue.delta(node_id, None, values)
                return
        self.queue.delta(node_id, delta)

    def on_message(self, message: dict) -> None:
        """Any other node-group message ``{"type": "live.<kind>"}``: ``live_<kind>``."""
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is not None and message["node"] in self.following:
            handler(message)

    def live_status(self, message: dict) -> None:
        frame = {
            "type": "status",
            "node": message["node"],
            "status": message["status"],
            "since": epoch_iso(message["since"]),
        }
        self.queue.put(frame, live=True)

    def live_alert(self, message: dict) -> None:
        if message["organization"] in self.members_of:
            self.queue.put(
                {"type": "alert", "node": message["node"], "alert": message["alert"]}, live=True
            )

    def live_outlier(self, message: dict) -> None:
        # Verdicts are for members, like alerts (a public picture's score is not public).
        if message["organization"] in self.members_of:
            self.queue.put(
                {"type": "outlier", "node": message["node"], "outlier": message["score"]},
                live=True,
            )

    def too_slow(self) -> None:
        # Kept: a task nobody references may be collected before it runs.
        self.closing = asyncio.ensure_future(self.close(code=TOO_SLOW, reason="too slow"))


def _authenticated(scope) -> tuple:
    """The user of the handshake, its session key if signed in (else None), and the
    organizations whose alerts it may hear."""
    user = scope.get("user") or AnonymousUser()
    if not user.is_authenticated:
        return AnonymousUser(), None, NO_ORGANIZATION
    session = scope.get("session")
    key = getattr(session, "session_key", None) or ""
    return user, key, organization_ids(user, Action.VIEW)


def _expand(user, keys: list[tuple[str, int]]) -> tuple[dict, dict[int, float]]:
    """Nodes of each subscription (None: not visible), and the public-period clips."""
    now = timezone.now()
    nodes = {key: visibility.nodes_of(user, *key, now=now) for key in keys}
    covered = sorted({n for found in nodes.values() if found for n in found})
    return nodes, visibility.public_since(user, covered, now)


def _recheck(user, session_key: str | None, keys: list[tuple[str, int]]):
    """(user, alert audience, nodes per subscription, clips) as of now; None when the
    session that authenticated the connection no longer authenticates its user."""
    if session_key is not None:
        found = permissions.session_user(session_key)
        if found is None or found.pk != user.pk:
            return None
        user = found
    return (user, organization_ids(user, Action.VIEW), *_expand(user, keys))


def _parse(subscription: dict) -> tuple[str, int] | None:
    if len(subscription) != 1:
        return None
    kind, pk = next(iter(subscription.items()))
    if kind not in visibility.KINDS or isinstance(pk, bool) or not isinstance(pk, int):
        return None
    return kind, pk
