"""/ws/live/ through the real ASGI application (session auth, origin check, routing) with
the in-memory channel layer; samples go through the ingest pipeline and its hook."""

import asyncio
import functools
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from sensorgrid.alerts.events import AlertChanged
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.fidelity.sweep import sweep
from sensorgrid.ingest import pipeline
from sensorgrid.inventory.models import Node
from sensorgrid.live import metrics, publish, status_follower
from sensorgrid.live.publish import group, publisher
from tests.ingest.conftest import envelope
from tests.live.conftest import connect, frames_until, subscribe

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(test):
    """Run an async test body on an event loop of its own (no pytest-asyncio here)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return async_to_sync(test)(*args, **kwargs)

    return wrapper


@sync_to_async
def ingest(node: Node, seconds_ago: float = 1, **values) -> None:
    # The SQLite test database is one shared in-memory cache whose table locks fail
    # at once instead of waiting: let the publisher finish reading the previous batch.
    publisher.flush()
    ts = timezone.now() - timedelta(seconds=seconds_ago)
    payload = json.dumps([{"device": node.device_id, "ts": ts.isoformat(), "values": values}])
    pipeline.ingest(envelope(payload.encode()), "json")


def is_delta(frame) -> bool:
    return frame["type"] == "delta"


async def next_delta(client, timeout: float = 3) -> dict:
    """The next delta; status frames (a node's first sample makes it ALIVE) are skipped."""
    return (await frames_until(client, is_delta, timeout))[-1]


async def no_delta(client, timeout: float) -> bool:
    """No delta within ``timeout`` (a timeout of receive_json_from would end the app)."""
    while not await client.receive_nothing(timeout=timeout):
        frame = await client.receive_json_from()
        assert not is_delta(frame), frame
    return True


@run
async def test_a_member_gets_a_snapshot_then_deltas_after_each_commit(world):
    await ingest(world.node_a, seconds_ago=60, co2=600, temperature=21.5)
    client = await connect(world.alice)
    subscribed, snapshot = await subscribe(client, node=world.node_a.pk)
    assert subscribed == {
        "type": "subscribed",
        "subscription": {"node": world.node_a.pk},
        "nodes": [world.node_a.pk],
    }
    assert snapshot["type"] == "snapshot" and snapshot["node"] == world.node_a.pk
    assert snapshot["values"] == {"co2": 600.0, "temperature": 21.5}
    assert snapshot["ts"].endswith("Z") and snapshot["status"] == "ALIVE"

    await ingest(world.node_a, co2=615)
    delta = await next_delta(client)
    assert delta["type"] == "delta" and delta["node"] == world.node_a.pk
    assert delta["values"] == {"co2": 615.0} and delta["ts"] > snapshot["ts"]
    await client.disconnect()


@run
async def test_a_node_without_data_has_an_empty_snapshot(world):
    client = await connect(world.bob)
    _, snapshot = await subscribe(client, node=world.node_a.pk)
    assert (snapshot["ts"], snapshot["values"], snapshot["status"]) == (None, {}, "UNKNOWN")
    await client.disconnect()


@run
async def test_it_refuses_a_foreign_node_and_never_sends_its_data(world):
    client = await connect(world.charlie)
    answer = await subscribe(client, node=world.node_a.pk)
    assert answer == [
        {"type": "error", "subscription": {"node": world.node_a.pk}, "error": "not found"}
    ]
    await ingest(world.node_a, co2=650)
    assert await client.receive_nothing(timeout=0.5)
    await client.disconnect()


@run
async def test_a_refusal_looks_the_same_for_unknown_and_foreign_objects(world):
    client = await connect(world.charlie)
    for subscription in ({"node": world.node_a.pk}, {"node": 987654}, {"site": world.site_a.pk}):
        (answer,) = await subscribe(client, **subscription)
        assert answer == {"type": "error", "subscription": subscription, "error": "not found"}
    await client.disconnect()


@run
async def test_anonymous_users_see_public_nodes_only(world):
    client = await connect(None)
    subscribed, snapshot = await subscribe(client, node=world.public_node.pk)
    assert subscribed["nodes"] == [world.public_node.pk] and snapshot["type"] == "snapshot"
    (refused,) = await subscribe(client, node=world.node_a.pk)
    assert refused["type"] == "error"
    await ingest(world.node_a, co2=650)
    await ingest(world.public_node, co2=480)
    frames = await frames_until(client, is_delta)  # the node also came ALIVE: a status
    assert {f["node"] for f in frames} == {world.public_node.pk}
    assert frames[-1]["values"] == {"co2": 480.0}
    assert await no_delta(client, timeout=0.3)
    await client.disconnect()


@run
async def test_a_public_installation_that_ended_no_longer_publishes_its_node(world):
    ended = timezone.now() - timedelta(minutes=1)
    await sync_to_async(
        type(world.public_installation).objects.filter(pk=world.public_installation.pk).update
    )(start=ended - timedelta(days=1), end=ended)
    client = await connect(None)
    (refused,) = await subscribe(client, node=world.public_node.pk)
    assert refused["error"] == "not found"
    await client.disconnect()


@run
async def test_site_room_organization_and_installation_subscriptions_expand(world):
    a, public = world.node_a.pk, world.public_node.pk
    alice = await connect(world.alice)
    expected = {
        ("site", world.site_a.pk): [a],
        ("room", world.public_room.pk): [public],
        ("organization", world.org_a.pk): sorted([a, public]),
        ("installation", world.installation_a.pk): [a],
    }
    for (kind, pk), nodes in expected.items():
        frames = await subscribe(alice, **{kind: pk})
        assert frames[0]["nodes"] == nodes
        assert [f["node"] for f in frames[1:]] == nodes
    (refused,) = await subscribe(alice, site=world.site_b.pk)
    assert refused["error"] == "not found"

    anonymous = await connect(None)
    expected = {
        ("organization", world.org_a.pk): [public],  # not the private node_a
        ("site", world.public_site.pk): [public],
        ("installation", world.public_installation.pk): [public],
    }
    for (kind, pk), nodes in expected.items():
        assert (await subscribe(anonymous, **{kind: pk}))[0]["nodes"] == nodes
    for refused_subscription in (
        {"site": world.site_a.pk},
        {"organization": world.org_b.pk},
        {"installation": world.installation_a.pk},
    ):
        (refused,) = await subscribe(anonymous, **refused_subscription)
        assert refused["type"] == "error"
    await alice.disconnect()
    await anonymous.disconnect()


@run
async def test_two_subscriptions_covering_a_node_give_one_delta_and_unsubscribe_stops_it(world):
    client = await connect(world.alice)
    await subscribe(client, node=world.node_a.pk)
    await subscribe(client, site=world.site_a.pk)
    await ingest(world.node_a, co2=700)
    assert (await next_delta(client))["values"] == {"co2": 700.0}
    assert await no_delta(client, timeout=0.3)

    await client.send_json_to({"unsubscribe": {"site": world.site_a.pk}})
    await ingest(world.node_a, co2=710)
    assert (await next_delta(client))["values"] == {"co2": 710.0}
    await client.send_json_to({"unsubscribe": {"node": world.node_a.pk}})
    await ingest(world.node_a, seconds_ago=0.5, co2=720)
    assert await client.receive_nothing(timeout=0.5)
    await client.disconnect()


@run
async def test_malformed_frames_get_an_error_and_the_connection_stays_open(world):
    client = await connect(world.alice)
    for text in ("not json", "[1, 2]", '{"subscribe": 3}', '{"hello": {"node": 1}}', "{}"):
        await client.send_to(text_data=text)
        answer = await client.receive_json_from(timeout=3)
        assert answer["type"] == "error" and "subscription" not in answer, text
    await client.send_to(bytes_data=b"\x00")
    assert (await client.receive_json_from(timeout=3))["type"] == "error"
    for subscription in ({"node": "12"}, {"planet": 1}, {"node": True}, {"node": 1, "site": 2}):
        await client.send_json_to({"subscribe": subscription})
        answer = await client.receive_json_from(timeout=3)
        assert answer["type"] == "error" and answer["subscription"] == subscription
    subscribed, _ = await subscribe(client, node=world.node_a.pk)
    assert subscribed["type"] == "subscribed"
    await client.disconnect()


@run
async def test_requests_sent_at_once_are_answered_in_order(world):
    # Each is handled in a task of its own while the connection goes on reading.
    client = await connect(world.alice)
    await client.send_json_to({"subscribe": {"node": world.node_a.pk}})
    await client.send_to(text_data="not json")
    await client.send_json_to({"subscribe": {"room": world.public_room.pk}})
    await client.send_json_to({"unsubscribe": {"node": world.node_a.pk}})
    await client.send_json_to({"subscribe": {"node": world.node_b.pk}})
    frames = [await client.receive_json_from(timeout=3) for _ in range(6)]
    assert [(f["type"], f.get("subscription"), f.get("node")) for f in frames] == [
        ("subscribed", {"node": world.node_a.pk}, None),
        ("snapshot", None, world.node_a.pk),
        ("error", None, None),
        ("subscribed", {"room": world.public_room.pk}, None),
        ("snapshot", None, world.public_node.pk),
        ("error", {"node": world.node_b.pk}, None),  # another organization's: not found
    ]
    await ingest(world.node_a, co2=500)
    await ingest(world.public_node, co2=600)
    assert (await next_delta(client))["node"] == world.public_node.pk  # node_a was left
    await client.disconnect()


@run
async def test_a_client_gone_with_subscriptions_waiting_leaves_nothing_followed(world):
    from sensorgrid.live import fanout

    client = await connect(world.alice)
    for _ in range(20):
        await client.send_json_to({"subscribe": {"node": world.node_a.pk}})
        await client.send_json_to({"subscribe": {"room": world.public_room.pk}})
    await client.disconnect(timeout=10)  # the one request being handled finishes
    hub = fanout.hub(get_channel_layer())
    assert not hub.followers.get(world.node_a.pk) and not hub.followers.get(world.public_node.pk)


@run
async def test_fast_updates_are_coalesced_per_node_and_the_last_value_wins(world, settings):
    settings.SENSORGRID_LIVE_MAX_RATE = 2  # one delta per node every 0.5 s
    client = await connect(world.alice)
    await subscribe(client, node=world.node_a.pk)
    coalesced = metrics.COALESCED._value.get()
    layer = get_channel_layer()
    start = timezone.now().timestamp() - 30
    for n in range(20):
        message = {
            "type": "live.delta",
            "node": world.node_a.pk,
            "values": {"co2": [start + n, 500.0 + n], "temperature": [start, 20.0]},
        }
        await layer.group_send(group(world.node_a.pk), message)
    first = await client.receive_json_from(timeout=3)
    assert first["values"] == {"co2": 500.0, "temperature": 20.0}
    assert await client.receive_nothing(timeout=0.3)  # the node's interval has not passed
    second = await client.receive_json_from(timeout=1)
    assert second["values"] == {"co2": 519.0, "temperature": 20.0}  # merged, newest wins
    assert await client.receive_nothing(timeout=0.7)
    assert metrics.COALESCED._value.get() - coalesced == 18
    await client.disconnect()


class StuckClient:
    """A client that stopped reading: once ``stuck``, the server's sends never complete."""

    def __init__(self, app) -> None:
        self.app = app
        self.stuck = False

    async def __call__(self, scope, receive, send):
        import asyncio

        async def gated(message):
            if self.stuck and message["type"] == "websocket.send":
                await asyncio.Event().wait()  # forever, like a full TCP window
            await send(message)

        await self.app(scope, receive, gated)


@run
async def test_a_client_that_does_not_keep_up_is_closed_with_4001(world, settings):
    from sensorgrid.asgi import application

    settings.SENSORGRID_LIVE_MAX_PENDING = 5
    app = StuckClient(application)
    client = await connect(world.alice, app=app)
    await subscribe(client, organization=world.org_a.pk)
    dropped = metrics.DROPPED_CLIENTS._value.get()
    app.stuck = True
    layer = get_channel_layer()
    start = timezone.now().timestamp() - 30
    for n in range(10):
        for node in (world.node_a, world.public_node):
            message = {"type": "live.delta", "node": node.pk, "values": {"co2": [start + n, 500]}}
            await layer.group_send(group(node.pk), message)
        await layer.group_send(
            group(world.node_a.pk),
            {"type": "live.status", "node": world.node_a.pk, "status": "MISSING", "since": start},
        )
    closed = await client.receive_output(timeout=3)
    assert closed["type"] == "websocket.close" and closed["code"] == 4001
    assert metrics.DROPPED_CLIENTS._value.get() - dropped == 1


@run
async def test_health_changes_arrive_as_status_frames(world):
    long_ago = timezone.now() - timedelta(days=2)
    await sync_to_async(Node.objects.filter(pk=world.node_a.pk).update)(
        last_seen=long_ago, status="ALIVE", sampling_interval=60
    )
    client = await connect(world.alice)
    _, snapshot = await subscribe(client, node=world.node_a.pk)
    assert snapshot["status"] == "ALIVE"
    await sync_to_async(sweep)(now=timezone.now())
    status = await sync_to_async(lambda: Node.objects.get(pk=world.node_a.pk).status)()
    assert status in ("MISSING", "DEAD")
    (frame,) = await frames_until(client, lambda f: f["type"] == "status")
    assert frame["node"] == world.node_a.pk and frame["status"] == status
    assert frame["since"].endswith("Z")
    await client.disconnect()


@run
async def test_a_foreign_origin_is_refused(world):
    from sensorgrid.asgi import application
    from tests.live.conftest import WebsocketCommunicator

    headers = [(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")]
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    assert not connected


@run
async def test_health_changes_recorded_by_another_process_reach_clients(world):
    """The worker is another process: without Redis the web process follows its rows."""
    client = await connect(world.alice)
    await subscribe(client, node=world.node_a.pk)
    follower = asyncio.create_task(status_follower.follow(interval=0.05))
    try:
        await asyncio.sleep(0.3)  # it has read where the history stands
        # As the worker records it: a row, and no signal in this process.
        await sync_to_async(NodeStatusChange.objects.create)(
            node=world.node_a, from_status="ALIVE", to_status="DEAD", at=timezone.now()
        )
        (*_, frame) = await frames_until(client, lambda f: f["type"] == "status")
        assert (frame["node"], frame["status"]) == (world.node_a.pk, "DEAD")
    finally:
        follower.cancel()
        await client.disconnect()


def alert_on(node, event: str = "opened") -> SimpleNamespace:
    """The alert ``AlertChanged`` carries, as far as the live channel reads it."""
    now = timezone.now()
    return SimpleNamespace(
        pk=7,
        node_id=node.pk,
        organization_id=node.organization_id,
        rule_id=3,
        severity="warning",
        message="co2 above 1000 for 10 min",
        last_value=1234.0,
        opened_at=now,
        resolved_at=None,
        acknowledged_at=now if event == "acknowledged" else None,
    )


@run
async def test_alerts_reach_members_following_the_node_and_nobody_else(world):
    member = await connect(world.alice)
    await subscribe(member, node=world.public_node.pk)
    stranger = await connect(None)  # follows the same node through its public installation
    await subscribe(stranger, node=world.public_node.pk)
    publish.alert_changed(AlertChanged(alert_on(world.public_node), "opened"))
    (*_, frame) = await frames_until(member, lambda f: f["type"] == "alert")
    assert frame["node"] == world.public_node.pk
    assert (frame["alert"]["event"], frame["alert"]["severity"]) == ("opened", "warning")
    assert frame["alert"]["resolved_at"] is None and frame["alert"]["opened_at"].endswith("Z")
    assert await stranger.receive_nothing(timeout=0.5)
    await member.disconnect()
    await stranger.disconnect()


@run
async def test_values_committed_while_nobody_listens_show_in_the_next_snapshot(world):
    client = await connect(world.alice)
    await subscribe(client, node=world.node_a.pk)
    await ingest(world.node_a, seconds_ago=60, co2=500)  # published: cached in the process
    assert (await next_delta(client))["values"] == {"co2": 500.0}
    await client.disconnect()
    await ingest(world.node_a, seconds_ago=1, co2=900)  # nobody listens: not published
    client = await connect(world.alice)
    _, snapshot = await subscribe(client, node=world.node_a.pk)
    assert snapshot["values"]["co2"] == 900.0
    await client.disconnect()
