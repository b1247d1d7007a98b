"""One hub per process hands node messages to its connections (sensorgrid.live.fanout),
and each connection's queue coalesces deltas while its client does not read
(sensorgrid.live.client_queue): what a slow client gets, and what it cannot hold up."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from sensorgrid.live import metrics
from sensorgrid.live.publish import group
from tests.live.conftest import connect, frames_until, subscribe
from tests.live.test_consumer import is_delta, no_delta, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Gated:
    """The ASGI app behind a gate: while it is shut, the server's sends to this client
    do not complete (a browser that stopped reading, its TCP window full)."""

    def __init__(self, app) -> None:
        self.app = app
        self.open = asyncio.Event()
        self.open.set()

    async def __call__(self, scope, receive, send):
        async def gated(message):
            if message["type"] == "websocket.send":
                await self.open.wait()
            await send(message)

        await self.app(scope, receive, gated)


async def deltas(node_id: int, count: int, start: float) -> None:
    """``count`` deltas of one node, co2 and temperature in turn, values 0 … count-1."""
    layer = get_channel_layer()
    for n in range(count):
        key = "co2" if n % 2 == 0 else "temperature"
        message = {"type": "live.delta", "node": node_id, "values": {key: [start + n, n]}}
        await layer.group_send(group(node_id), message)


async def coalesced_since(before: float, at_least: int) -> None:
    """Wait until the hub has handed over a burst (its merges are counted)."""
    for _ in range(300):
        if metrics.COALESCED._value.get() - before >= at_least:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the deltas were not coalesced")


@run
async def test_a_client_that_stops_reading_gets_the_newest_value_of_each_quantity(world, settings):
    from sensorgrid.asgi import application

    settings.SENSORGRID_LIVE_MAX_RATE = 0  # no rate limit: every delta reaches the queue
    settings.SENSORGRID_LIVE_MAX_PENDING = 3
    app = Gated(application)
    client = await connect(world.alice, app=app)
    await subscribe(client, node=world.node_a.pk)
    dropped = metrics.DROPPED_CLIENTS._value.get()
    before = metrics.COALESCED._value.get()
    app.open.clear()
    start = timezone.now().timestamp() - 60
    await deltas(world.node_a.pk, 50, start)  # far more than MAX_PENDING frames
    await coalesced_since(before, 48)
    app.open.set()
    frames = await frames_until(client, lambda f: f["values"].get("co2") == 48)
    # At most one delta was on its way when the client stopped; the rest is one frame
    # with the newest value of each quantity, and the client was not closed.
    assert len(frames) <= 2
    assert frames[-1]["values"] == {"co2": 48, "temperature": 49}
    assert await no_delta(client, timeout=0.3)
    assert metrics.DROPPED_CLIENTS._value.get() == dropped
    await client.disconnect()


@run
async def test_a_client_that_never_reads_does_not_stop_another_from_receiving(world, settings):
    from sensorgrid.asgi import application

    settings.SENSORGRID_LIVE_MAX_RATE = 0
    stuck_app = Gated(application)
    stuck = await connect(world.alice, app=stuck_app)
    await subscribe(stuck, node=world.node_a.pk)
    reader = await connect(world.bob)
    await subscribe(reader, node=world.node_a.pk)
    stuck_app.open.clear()  # for good
    start = timezone.now().timestamp() - 60
    layer = get_channel_layer()
    for n in range(20):
        message = {"type": "live.delta", "node": world.node_a.pk, "values": {"co2": [start + n, n]}}
        await layer.group_send(group(world.node_a.pk), message)
        frame = await reader.receive_json_from(timeout=3)
        assert frame["type"] == "delta" and frame["values"] == {"co2": n}
    await reader.disconnect()


@run
async def test_a_shared_delta_is_still_clipped_to_a_public_installations_period(world):
    started = timezone.now() - timedelta(hours=1)
    await sync_to_async(
        type(world.public_installation).objects.filter(pk=world.public_installation.pk).update
    )(start=started)
    member = await connect(world.alice)
    await subscribe(member, node=world.public_node.pk)
    visitor = await connect(None)
    await subscribe(visitor, node=world.public_node.pk)
    before = started.timestamp() - 60  # measured before the installation: members only
    message = {
        "type": "live.delta",
        "node": world.public_node.pk,
        "values": {"co2": [before, 999], "temperature": [started.timestamp() + 60, 21]},
    }
    await get_channel_layer().group_send(group(world.public_node.pk), message)
    (seen,) = await frames_until(member, is_delta)
    assert seen["values"] == {"co2": 999, "temperature": 21}
    (clipped,) = await frames_until(visitor, is_delta)
    assert clipped["values"] == {"temperature": 21}
    # Nothing but what was measured inside the period, then or later.
    await get_channel_layer().group_send(
        group(world.public_node.pk),
        {"type": "live.delta", "node": world.public_node.pk, "values": {"co2": [before, 1]}},
    )
    assert (await frames_until(member, is_delta))[-1]["values"] == {"co2": 1}
    assert await no_delta(visitor, timeout=0.3)
    await member.disconnect()
    await visitor.disconnect()
