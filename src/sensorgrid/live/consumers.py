"""``/ws/live/``: subscribe to nodes, sites, rooms, organizations or installations and
receive snapshots, deltas and health changes (protocol: docs/dashboard.md)."""

import asyncio
import json
from collections import Counter

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from sensorgrid.live import latest, visibility
from sensorgrid.live.outbox import Outbox
from sensorgrid.live.publish import group, publisher

TOO_SLOW = 4001
SHAPE = 'expected {"subscribe": {…}} or {"unsubscribe": {…}}'
SUBSCRIPTION = "expected exactly one of node, site, room, organization, installation with an id"


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        # Where the in-memory layer's messages must be delivered (lifespan does it too).
        publisher.attach(asyncio.get_running_loop())
        publisher.listening(+1)
        self.counted = True
        # Alerts are for members only, also on nodes they follow through a public page.
        self.members_of = await database_sync_to_async(visibility.alert_audience)(
            self.scope.get("user")
        )
        self.subscriptions: dict[tuple[str, int], list[int]] = {}
        self.following: Counter[int] = Counter()  # node → subscriptions that cover it
        self.outbox = Outbox(
            self.send_json,
            self.too_slow,
            settings.SENSORGRID_LIVE_MAX_RATE,
            settings.SENSORGRID_LIVE_MAX_PENDING,
        )
        await self.accept()

    async def disconnect(self, code) -> None:
        if getattr(self, "counted", False):
            publisher.listening(-1)
            self.counted = False
        if hasattr(self, "outbox"):
            self.outbox.close()
            for node_id in list(self.following):
                await self.channel_layer.group_discard(group(node_id), self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if content is None:
            self.outbox.put({"type": "error", "error": "frames must be JSON text objects"})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or len(content) != 1:
            self.outbox.put({"type": "error", "error": SHAPE})
            return
        action, subscription = next(iter(content.items()))
        if action not in ("subscribe", "unsubscribe") or not isinstance(subscription, dict):
            self.outbox.put({"type": "error", "error": SHAPE})
            return
        key = _parse(subscription)
        if key is None:
            self.outbox.put({"type": "error", "subscription": subscription, "error": SUBSCRIPTION})
        elif action == "subscribe":
            await self.subscribe(key)
        else:
            await self.release(self.subscriptions.pop(key, []))

    async def subscribe(self, key: tuple[str, int]) -> None:
        kind, pk = key
        user = self.scope.get("user")
        nodes = await database_sync_to_async(visibility.nodes_of)(user, kind, pk)
        if nodes is None:
            self.outbox.put({"type": "error", "subscription": {kind: pk}, "error": "not found"})
            return
        for node_id in nodes:
            if not self.following[node_id]:
                await self.channel_layer.group_add(group(node_id), self.channel_name)
            self.following[node_id] += 1
        await self.release(self.subscriptions.get(key, []))  # a repeated subscribe refreshes
        self.subscriptions[key] = nodes
        self.outbox.put({"type": "subscribed", "subscription": {kind: pk}, "nodes": nodes})
        for frame in await database_sync_to_async(latest.snapshots)(nodes):
            self.outbox.put(frame)

    async def release(self, nodes: list[int]) -> None:
        for node_id in nodes:
            self.following[node_id] -= 1
            if self.following[node_id] <= 0:
                del self.following[node_id]
                self.outbox.forget(node_id)
                await self.channel_layer.group_discard(group(node_id), self.channel_name)

    # Messages from the publisher (sensorgrid.live.publish) to the node groups.

    async def live_delta(self, message: dict) -> None:
        if message["node"] in self.following:
            self.outbox.delta(message["node"], message["values"])

    async def live_status(self, message: dict) -> None:
        if message["node"] in self.following:
            frame = {
                "type": "status",
                "node": message["node"],
                "status": message["status"],
                "since": latest.iso(message["since"]),
            }
            self.outbox.put(frame, live=True)

    async def live_alert(self, message: dict) -> None:
        member = self.members_of is None or message["organization"] in self.members_of
        if message["node"] in self.following and member:
            self.outbox.put(
                {"type": "alert", "node": message["node"], "alert": message["alert"]}, live=True
            )

    def too_slow(self) -> None:
        # Kept: a task nobody references may be collected before it runs.
        self.closing = asyncio.ensure_future(self.close(code=TOO_SLOW, reason="too slow"))


def _parse(subscription: dict) -> tuple[str, int] | None:
    if len(subscription) != 1:
        return None
    kind, pk = next(iter(subscription.items()))
    if kind not in visibility.KINDS or isinstance(pk, bool) or not isinstance(pk, int):
        return None
    return kind, pk
