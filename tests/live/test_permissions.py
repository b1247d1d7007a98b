"""An open /ws/live/ connection follows permission changes: a member removed from an
organization, a deactivated user, a signed-out session (issue 16, item 8); and a
public installation publishes its own period only, on the WebSocket too."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sensorgrid.asgi import application
from sensorgrid.inventory.models import Installation
from sensorgrid.live import recheck
from sensorgrid.tenancy.models import Membership
from tests.live.conftest import ORIGIN, WebsocketCommunicator, connect, frames_until, subscribe
from tests.live.test_consumer import ingest, is_delta, next_delta, no_delta, run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REVOKED = 4003  # the close code of docs/dashboard.md: permission to listen ended


async def signed_in(user) -> tuple[WebsocketCommunicator, Client]:
    """A connected client and the browser session it was authenticated by."""
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    headers = [*ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, browser


async def closed_with(client, code: int, timeout: float = 3) -> bool:
    """Frames until the server closes; True if it closed with ``code``."""
    while True:
        output = await client.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code") == code


@run
async def test_a_removed_member_stops_receiving_the_organization_at_once(world):
    bob = await connect(world.bob)
    frames = await subscribe(bob, node=world.node_a.pk)
    assert frames[0]["nodes"] == [world.node_a.pk]
    await ingest(world.node_a, co2=600)
    assert (await next_delta(bob))["values"] == {"co2": 600.0}

    await sync_to_async(Membership.objects.filter(pk=world.membership_bob.pk).delete)()
    (*_, told) = await frames_until(bob, lambda f: f["type"] == "unsubscribed")
    assert told == {
        "type": "unsubscribed",
        "subscription": {"node": world.node_a.pk},
        "error": "not found",
    }
    await ingest(world.node_a, co2=666)  # measured after the removal
    assert await no_delta(bob, timeout=0.7)
    # Nor may he subscribe again.
    (refused,) = await subscribe(bob, node=world.node_a.pk)
    assert refused["error"] == "not found"
    await bob.disconnect()


@run
async def test_an_organization_subscription_shrinks_to_its_public_nodes(world):
    bob = await connect(world.bob)
    frames = await subscribe(bob, organization=world.org_a.pk)
    assert frames[0]["nodes"] == sorted([world.node_a.pk, world.public_node.pk])

    def move_to_b():
        membership = Membership.objects.get(pk=world.membership_bob.pk)
        membership.organization = world.org_b
        membership.save()

    await sync_to_async(move_to_b)()
    (*_, told) = await frames_until(bob, lambda f: f["type"] == "subscribed")
    assert told["subscription"] == {"organization": world.org_a.pk}
    assert told["nodes"] == [world.public_node.pk]
    await ingest(world.node_a, co2=701)
    await ingest(world.public_node, co2=480)
    frames = await frames_until(bob, is_delta)
    assert {f["node"] for f in frames} == {world.public_node.pk}
    await bob.disconnect()


@run
async def test_changes_that_bypass_signals_are_caught_by_the_periodic_recheck(world, settings):
    settings.SENSORGRID_LIVE_RECHECK_SECONDS = 0.3
    bob = await connect(world.bob)
    await subscribe(bob, node=world.node_a.pk)
    # update() sends no signal (as a change made by another process without Redis).
    await sync_to_async(Membership.objects.filter(pk=world.membership_bob.pk).update)(
        organization=world.org_b
    )
    (*_, told) = await frames_until(bob, lambda f: f["type"] == "unsubscribed")
    assert told["subscription"] == {"node": world.node_a.pk}
    await ingest(world.node_a, co2=650)
    assert await no_delta(bob, timeout=0.7)
    await bob.disconnect()


@run
async def test_signing_out_closes_the_sockets_of_that_session(world):
    bob, browser = await signed_in(world.bob)
    other_tab = await connect(world.bob)  # another session of bob stays open
    await subscribe(bob, node=world.node_a.pk)
    await subscribe(other_tab, node=world.node_a.pk)
    answer = await sync_to_async(browser.post)(reverse("dashboard:logout"))
    assert answer.status_code == 302
    assert await closed_with(bob, REVOKED)
    await ingest(world.node_a, co2=610)
    assert (await next_delta(other_tab))["values"] == {"co2": 610.0}
    await other_tab.disconnect()


@run
async def test_an_expired_session_is_closed_by_the_periodic_recheck(world, settings):
    from django.contrib.sessions.models import Session

    settings.SENSORGRID_LIVE_RECHECK_SECONDS = 0.3
    bob, _ = await signed_in(world.bob)
    await subscribe(bob, node=world.node_a.pk)
    await sync_to_async(Session.objects.all().delete)()  # as `clearsessions` or an admin
    assert await closed_with(bob, REVOKED)


@run
async def test_a_deactivated_user_is_closed(world):
    bob = await connect(world.bob)
    await subscribe(bob, node=world.public_node.pk)

    def deactivate():
        world.bob.is_active = False
        world.bob.save()

    await sync_to_async(deactivate)()
    assert await closed_with(bob, REVOKED)


@run
async def test_a_password_change_closes_the_sessions_it_ends(world):
    bob = await connect(world.bob)
    await subscribe(bob, node=world.node_a.pk)

    def change_password():
        world.bob.set_password("a new secret 123")
        world.bob.save()

    await sync_to_async(change_password)()
    assert await closed_with(bob, REVOKED)


async def _installed_an_hour_ago(world) -> None:
    start = timezone.now() - timedelta(hours=1)
    await sync_to_async(Installation.objects.filter(pk=world.public_installation.pk).update)(
        start=start
    )


@run
async def test_a_public_snapshot_shows_nothing_measured_before_the_installation(world):
    await _installed_an_hour_ago(world)
    await ingest(world.public_node, seconds_ago=2 * 3600, co2=1500, temperature=30)
    await ingest(world.public_node, seconds_ago=60, temperature=21)
    for subscription in (
        {"installation": world.public_installation.pk},
        {"node": world.public_node.pk},
        {"site": world.public_site.pk},
    ):
        anonymous = await connect(None)
        _, snapshot = await subscribe(anonymous, **subscription)
        assert snapshot["values"] == {"temperature": 21.0}, subscription
        await anonymous.disconnect()
    charlie = await connect(world.charlie)  # signed in, but no member of org A
    _, snapshot = await subscribe(charlie, node=world.public_node.pk)
    assert snapshot["values"] == {"temperature": 21.0}
    alice = await connect(world.alice)  # a member sees the node's whole history
    _, snapshot = await subscribe(alice, node=world.public_node.pk)
    assert snapshot["values"] == {"co2": 1500.0, "temperature": 21.0}
    await charlie.disconnect()
    await alice.disconnect()


@run
async def test_a_public_delta_leaves_out_values_measured_before_the_installation(world):
    await _installed_an_hour_ago(world)
    anonymous = await connect(None)
    await subscribe(anonymous, node=world.public_node.pk)
    alice = await connect(world.alice)
    await subscribe(alice, node=world.public_node.pk)
    await ingest(world.public_node, seconds_ago=2 * 3600, co2=1500)  # a late upload
    assert (await next_delta(alice))["values"] == {"co2": 1500.0}
    assert await no_delta(anonymous, timeout=0.5)
    await ingest(world.public_node, seconds_ago=5, co2=500)
    assert (await next_delta(anonymous))["values"] == {"co2": 500.0}
    await anonymous.disconnect()
    await alice.disconnect()


@run
async def test_a_public_installation_that_ends_is_dropped_by_the_periodic_recheck(world, settings):
    settings.SENSORGRID_LIVE_RECHECK_SECONDS = 0.3
    anonymous = await connect(None)
    await subscribe(anonymous, installation=world.public_installation.pk)
    await sync_to_async(Installation.objects.filter(pk=world.public_installation.pk).update)(
        end=timezone.now()
    )
    (*_, told) = await frames_until(anonymous, lambda f: f["type"] == "subscribed")
    assert told == {
        "type": "subscribed",
        "subscription": {"installation": world.public_installation.pk},
        "nodes": [],  # an ended installation covers nothing, as when subscribing
    }
    await ingest(world.public_node, co2=640)
    assert await no_delta(anonymous, timeout=0.7)
    await anonymous.disconnect()


@run
async def test_one_periodic_recheck_of_all_connections_drops_only_what_changed(world, settings):
    settings.SENSORGRID_LIVE_RECHECK_SECONDS = 0  # no timer: the check runs when told
    bob, other_tab = await connect(world.bob), await connect(world.bob)
    alice, charlie, anonymous = (
        await connect(world.alice),
        await connect(world.charlie),
        await connect(None),
    )
    for client in (bob, other_tab, alice):
        await subscribe(client, node=world.node_a.pk)
    for client in (charlie, anonymous):
        await subscribe(client, node=world.public_node.pk)
    await sync_to_async(Membership.objects.filter(pk=world.membership_bob.pk).update)(
        organization=world.org_b
    )

    await recheck.rechecker().check()  # as every SENSORGRID_LIVE_RECHECK_SECONDS
    for client in (bob, other_tab):
        (*_, told) = await frames_until(client, lambda f: f["type"] == "unsubscribed")
        assert told["subscription"] == {"node": world.node_a.pk}
    await ingest(world.node_a, co2=650)
    await ingest(world.public_node, co2=480)
    assert (await next_delta(alice))["values"] == {"co2": 650.0}
    for client in (charlie, anonymous):
        assert (await next_delta(client))["values"] == {"co2": 480.0}
    for client in (bob, other_tab):
        assert await no_delta(client, timeout=0.7)
    for client in (bob, other_tab, alice, charlie, anonymous):
        await client.disconnect()


async def another_tab(browser: Client) -> WebsocketCommunicator:
    """A further connection of the same browser session as ``signed_in``'s."""
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    headers = [*ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@run
async def test_the_periodic_recheck_costs_queries_per_viewer_not_per_connection(
    world, settings, monkeypatch
):
    settings.SENSORGRID_LIVE_RECHECK_SECONDS = 0  # no timer: the check runs when told

    statements = []  # every SQL statement, whichever thread runs it
    execute = CursorWrapper.execute

    def counted(cursor, sql, params=None):
        statements.append(sql)
        return execute(cursor, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", counted)

    async def queries_of_a_check() -> int:
        statements.clear()
        checker = recheck.rechecker()
        await checker.check()
        assert not checker.thorough  # nothing changed: no connection expanded again
        return len(statements)

    alice, browser = await signed_in(world.alice)
    anonymous = await connect(None)
    await subscribe(alice, node=world.node_a.pk)
    await subscribe(anonymous, node=world.public_node.pk)
    of_two = await queries_of_a_check()
    assert of_two > 0
    more = [await connect(None) for _ in range(6)] + [await another_tab(browser) for _ in range(3)]
    for client in more[:6]:
        await subscribe(client, site=world.public_site.pk)
    for client in more[6:]:
        await subscribe(client, organization=world.org_a.pk)
    assert await queries_of_a_check() == of_two  # 11 connections, still two viewers
    for client in [alice, anonymous, *more]:
        await client.disconnect()
