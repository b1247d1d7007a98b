from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from sensorgrid.inventory.models import Installation
from tests import factories as f

URL = "/api/v1/installations/"


def at(year: int, month: int = 1) -> str:
    return datetime(year, month, 1, tzinfo=UTC).isoformat()


@pytest.fixture
def owner_client(world, client_for):
    return client_for(world.alice)


def test_it_refuses_an_overlapping_installation_with_a_message_naming_the_clash(
    world, owner_client
):
    # node_a is installed in room_a from 2026-01-01 with no end.
    response = owner_client.post(
        URL,
        {"node": world.node_a.pk, "room": world.public_room.pk, "start": at(2026, 6)},
        format="json",
    )
    assert response.status_code == 400
    message = response.json()["start"][0]
    assert "already installed" in message and str(world.installation_a.pk) in message


def test_it_accepts_back_to_back_periods(world, owner_client):
    first = owner_client.post(
        URL,
        {"node": world.node_a.pk, "room": world.room_a.pk, "start": at(2024), "end": at(2025)},
        format="json",
    )
    assert first.status_code == 201, first.content
    second = owner_client.post(
        URL,
        {"node": world.node_a.pk, "room": world.room_a.pk, "start": at(2025), "end": at(2026)},
        format="json",
    )
    assert second.status_code == 201, second.content
    assert Installation.objects.filter(node=world.node_a).count() == 3


def test_closing_an_installation_lets_the_node_move(world, owner_client):
    detail = reverse("installation-detail", args=[world.installation_a.pk])
    assert owner_client.patch(detail, {"end": at(2026, 3)}, format="json").status_code == 200
    moved = owner_client.post(
        URL,
        {"node": world.node_a.pk, "room": world.public_room.pk, "start": at(2026, 3)},
        format="json",
    )
    assert moved.status_code == 201, moved.content


def test_extending_an_installation_into_the_next_one_is_refused(world, owner_client):
    detail = reverse("installation-detail", args=[world.installation_a.pk])
    owner_client.patch(detail, {"end": at(2026, 3)}, format="json")
    owner_client.post(
        URL,
        {"node": world.node_a.pk, "room": world.room_a.pk, "start": at(2026, 3)},
        format="json",
    )
    response = owner_client.patch(detail, {"end": at(2026, 5)}, format="json")
    assert response.status_code == 400
    assert "start" in response.json()


def test_end_must_follow_start(world, owner_client):
    response = owner_client.post(
        URL,
        {"node": world.node_a.pk, "room": world.room_a.pk, "start": at(2020), "end": at(2019)},
        format="json",
    )
    assert response.status_code == 400
    assert "end" in response.json()


def test_a_node_cannot_be_installed_in_another_organizations_room(world, client_for):
    # The public room of org A is visible to charlie, but it is not his (403, named).
    response = client_for(world.charlie).post(
        URL,
        {"node": world.node_b.pk, "room": world.public_room.pk, "start": at(2020), "end": at(2021)},
        format="json",
    )
    assert response.status_code == 403
    assert "room" in response.json()


def test_the_database_itself_refuses_overlaps_on_postgresql(world):
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints exist on PostgreSQL only; SQLite relies on validation")
    with pytest.raises(IntegrityError), transaction.atomic():
        Installation.objects.create(
            node=world.node_a, room=world.room_a, start=datetime(2027, 1, 1, tzinfo=UTC)
        )


def test_the_database_refuses_an_end_before_the_start(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.InstallationFactory(
            node=world.node_b,
            room=world.room_b,
            start=datetime(2020, 1, 1, tzinfo=UTC),
            end=datetime(2019, 1, 1, tzinfo=UTC),
        )
