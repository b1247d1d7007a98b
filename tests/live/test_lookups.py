"""The subscriptions of many connections answered together (sensorgrid.live.lookups):
each viewer's answers stay behind its walls, and the queries grow with the viewers,
not with the subscriptions."""

import asyncio
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sensorgrid.ingest import writer
from sensorgrid.ingest.validate import Row
from sensorgrid.inventory.models import Quantity
from sensorgrid.live import lookups
from tests.live.conftest import connect
from tests.live.test_consumer import run

BEFORE_PUBLIC = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)  # the installation starts 2026-01-01
RECENT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def store(world) -> None:
    """node_a's co2 in March; the public node's only value from before its public period."""
    co2 = Quantity.objects.get(key="co2")
    writer.write(
        [
            Row(world.node_a.pk, co2.pk, RECENT, 650.0),
            Row(world.public_node.pk, co2.pk, BEFORE_PUBLIC, 500.0),
        ]
    )


@pytest.mark.django_db
def test_the_answers_of_many_viewers_in_one_call_and_queries_per_viewer(world):
    from django.contrib.auth.models import AnonymousUser

    store(world)
    loop = asyncio.new_event_loop()
    a, b, public = world.node_a.pk, world.node_b.pk, world.public_node.pk

    def asked(copies: int) -> list:
        requests = []
        for user in (world.alice, world.charlie, AnonymousUser()):
            for _ in range(copies):
                for pk in (a, b, public, 999_999_999, 0):
                    requests.append(lookups.Expansion(user, ("node", pk), loop.create_future()))
        requests.append(lookups.Snapshot([a, public], {}, loop.create_future()))
        requests.append(
            lookups.Snapshot([public], {public: RECENT.timestamp()}, loop.create_future())
        )
        return requests

    found = lookups.answer(asked(1))
    nobody = (None, {})
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert found[:15] == [
        ([a], {}),
        nobody,
        ([public], {}),
        nobody,
        nobody,  # alice: org A's nodes, whole
        nobody,
        ([b], {}),
        ([public], {public: start}),
        nobody,
        nobody,  # charlie
        nobody,
        nobody,
        ([public], {public: start}),
        nobody,
        nobody,  # the public
    ]
    member, clipped = found[15:]
    assert [(f["node"], f["values"]) for f in member] == [
        (a, {"co2": 650.0}),
        (public, {"co2": 500.0}),
    ]
    assert [(f["node"], f["values"], f["ts"]) for f in clipped] == [(public, {}, None)]

    with CaptureQueriesContext(connection) as few:
        lookups.answer(asked(1))
    with CaptureQueriesContext(connection) as many:
        assert lookups.answer(asked(10))[:5] == found[:5]
    assert len(many) == len(few) <= 3 * 3 + 2  # per viewer, and the snapshots once
    loop.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@run
async def test_connections_subscribing_at_once_each_hear_their_own_answers(world):
    await sync_to_async(store)(world)
    a, b, public = world.node_a.pk, world.node_b.pk, world.public_node.pk
    clients = {
        "alice": await connect(world.alice),
        "charlie": await connect(world.charlie),
        "public": await connect(None),
    }
    asked = [{"node": a}, {"node": b}, {"node": public}, {"site": world.site_a.pk}]
    for client in clients.values():  # all sent before any is answered
        for subscription in asked:
            await client.send_json_to({"subscribe": subscription})

    async def heard(client) -> list:
        out = []
        for _ in asked:
            first = await client.receive_json_from(timeout=5)
            if first["type"] == "error":
                out.append(None)
                continue
            snapshots = [await client.receive_json_from(timeout=5) for _ in first["nodes"]]
            out.append({s["node"]: s["values"] for s in snapshots})
        return out

    got = dict(zip(clients, await asyncio.gather(*map(heard, clients.values())), strict=True))
    assert got == {
        "alice": [{a: {"co2": 650.0}}, None, {public: {"co2": 500.0}}, {a: {"co2": 650.0}}],
        "charlie": [None, {b: {}}, {public: {}}, None],  # before the public period: clipped
        "public": [None, None, {public: {}}, None],
    }
    for client in clients.values():
        await client.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@run
async def test_subscriptions_a_client_sends_at_once_are_looked_up_together(world, monkeypatch):
    # Before, each frame waited for a turn of the database thread before it was even
    # read (Channels' dispatch), so a client's subscriptions went one per call.
    calls = []
    answer = lookups.answer

    def counted(requests):
        calls.append(sum(isinstance(r, lookups.Expansion) for r in requests))
        return answer(requests)

    monkeypatch.setattr(lookups, "answer", counted)
    alice = await connect(world.alice)
    nodes = [world.node_a.pk, world.public_node.pk, world.node_b.pk, world.public_node.pk]
    for pk in nodes:
        await alice.send_json_to({"subscribe": {"node": pk}})
    answers = [await alice.receive_json_from(timeout=5) for _ in range(7)]  # 3 accepted
    assert [f["type"] for f in answers] == ["subscribed", "snapshot"] * 2 + ["error"] + [
        "subscribed",
        "snapshot",
    ]
    assert sum(calls) == 4 and len([n for n in calls if n]) < 4
    await alice.disconnect()


@pytest.mark.django_db
def test_a_connections_older_user_object_does_not_decide_for_another(world):
    # Two connections of alice in one call: one still holds her as a superuser (a
    # demotion it has not re-checked yet), the other as she is now.
    from sensorgrid.tenancy.models import User

    stale = User.objects.get(pk=world.alice.pk)
    stale.is_superuser = True
    loop = asyncio.new_event_loop()
    key = ("node", world.node_b.pk)
    now, then = (lookups.Expansion(u, key, loop.create_future()) for u in (world.alice, stale))
    assert lookups.answer([now, then]) == [(None, {}), ([world.node_b.pk], {})]
    loop.close()
