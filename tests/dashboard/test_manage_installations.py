"""Installations in the dashboard (Django test client): place a node in a room for a
period, move it (the current installation ends when the new one starts), end it; the
API's rules refuse overlaps and foreign rooms. Inspectors read, strangers get 404."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sensorgrid.inventory.models import Installation
from tests import factories as f

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def alice(world, client):
    client.force_login(world.alice)
    return client


@pytest.fixture
def loose_node(world):
    return f.NodeFactory(organization=world.org_a, device_id="secretA-loose")


def test_alice_installs_a_loose_node_in_a_room_from_now_on(world, alice, loose_node):
    page = body(alice.get(f"/nodes/{loose_node.pk}/settings/"))
    assert "Not installed anywhere now." in page
    assert 'name="install-room"' in page and 'type="datetime-local"' in page
    assert "secretB room" not in page  # only rooms of the node's organization
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    response = alice.post(
        f"/nodes/{loose_node.pk}/install/",
        {"install-room": world.room_a.pk, "install-start": minute(start)},
    )
    assert response.status_code == 302
    installation = Installation.objects.get(node=loose_node)
    assert (installation.room, installation.start, installation.end) == (world.room_a, start, None)
    assert not installation.is_public
    settings_page = body(alice.get(f"/nodes/{loose_node.pk}/settings/"))
    assert "secretA room</a> at" in settings_page
    room_page = body(alice.get(f"/rooms/{world.room_a.pk}/"))
    assert f'data-node="{loose_node.pk}"' in room_page  # the room now shows the node


def test_a_period_that_overlaps_or_ends_before_it_starts_is_refused(world, alice):
    # node_a is in room_a since 2026-01-01 (factory), open-ended
    overlap = alice.post(
        f"/nodes/{world.node_a.pk}/install/",
        {"install-room": world.public_room.pk, "install-start": "2026-06-01T00:00"},
    )
    assert overlap.status_code == 200
    assert "periods must not overlap" in body(overlap)
    backwards = alice.post(
        f"/nodes/{world.node_a.pk}/install/",
        {
            "install-room": world.public_room.pk,
            "install-start": "2025-06-01T00:00",
            "install-end": "2025-05-01T00:00",
        },
    )
    assert "Must be after start." in body(backwards)
    foreign = alice.post(
        f"/nodes/{world.node_a.pk}/install/",
        {"install-room": world.room_b.pk, "install-start": "2025-01-01T00:00"},
    )
    assert "Select a valid choice." in body(foreign)
    assert Installation.objects.filter(node=world.node_a).count() == 1


def test_moving_ends_the_current_installation_and_starts_the_next_at_the_same_moment(world, alice):
    at = timezone.now().replace(second=0, microsecond=0)
    response = alice.post(
        f"/nodes/{world.node_a.pk}/move/",
        {"move-room": world.public_room.pk, "move-at": minute(at), "move-is_public": "on"},
    )
    assert response.status_code == 302
    world.installation_a.refresh_from_db()
    assert world.installation_a.end == at
    new = Installation.objects.get(node=world.node_a, end__isnull=True)
    assert (new.room, new.start, new.is_public) == (world.public_room, at, True)
    page = body(alice.get(f"/nodes/{world.node_a.pk}/settings/"))
    assert "Public classroom</a> at" in page and "(public)" in page


def test_a_move_before_the_current_start_changes_nothing(world, alice):
    response = alice.post(
        f"/nodes/{world.node_a.pk}/move/",
        {"move-room": world.public_room.pk, "move-at": "2025-01-01T00:00"},
    )
    assert response.status_code == 200
    assert "Must be after start." in body(response)
    world.installation_a.refresh_from_db()
    assert world.installation_a.end is None
    assert Installation.objects.filter(node=world.node_a).count() == 1


def test_ending_an_installation(world, alice):
    at = timezone.now().replace(second=0, microsecond=0)
    response = alice.post(f"/installations/{world.installation_a.pk}/end/", {"end-end": minute(at)})
    assert response.status_code == 302
    world.installation_a.refresh_from_db()
    assert world.installation_a.end == at
    assert "Not installed anywhere now." in body(alice.get(f"/nodes/{world.node_a.pk}/settings/"))


def test_bob_the_inspector_sees_the_installations_but_may_not_change_them(world, client):
    client.force_login(world.bob)
    page = body(client.get(f"/nodes/{world.node_a.pk}/settings/"))
    assert "secretA room" in page and "Move" not in page and "End installation" not in page
    data = {"install-room": world.public_room.pk, "install-start": "2025-01-01T00:00"}
    assert client.post(f"/nodes/{world.node_a.pk}/install/", data).status_code == 403
    assert client.post(f"/nodes/{world.node_a.pk}/move/", {}).status_code == 403
    end = client.post(
        f"/installations/{world.installation_a.pk}/end/", {"end-end": "2030-01-01T00:00"}
    )
    assert end.status_code == 403
    world.installation_a.refresh_from_db()
    assert world.installation_a.end is None


def test_charlie_gets_the_404_for_alices_installations(world, client):
    client.force_login(world.charlie)
    data = {"install-room": world.room_b.pk, "install-start": "2025-01-01T00:00"}
    assert client.post(f"/nodes/{world.node_a.pk}/install/", data).status_code == 404
    assert client.post(f"/nodes/{world.node_a.pk}/move/", data).status_code == 404
    for installation in (world.installation_a, world.public_installation):
        response = client.post(
            f"/installations/{installation.pk}/end/", {"end-end": "2030-01-01T00:00"}
        )
        assert response.status_code == 404 and "secretA" not in body(response)
    world.public_installation.refresh_from_db()
    assert world.public_installation.end is None
    # and his own node cannot be put into alice's room
    mine = client.post(
        f"/nodes/{world.node_b.pk}/install/",
        {"install-room": world.room_a.pk, "install-start": "2025-01-01T00:00"},
    )
    assert "Select a valid choice." in body(mine)
    assert not Installation.objects.filter(node=world.node_b, room=world.room_a).exists()
