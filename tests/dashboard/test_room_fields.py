"""The room form offers floor and "outdoors"; the pages show them, and an outdoor room's
CO2 goes without the indoor traffic light (issue 19)."""

import re

import pytest
from django.utils import timezone

from sensorgrid.inventory.models import Quantity, Room
from sensorgrid.telemetry.models import Latest

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def test_alice_adds_a_basement_and_a_yard_and_the_pages_say_so(world, client):
    client.force_login(world.alice)
    form = body(client.get(f"/sites/{world.site_a.pk}/rooms/new/"))
    assert 'name="floor"' in form and 'name="outdoor"' in form and "Outdoors" in form
    client.post(
        f"/sites/{world.site_a.pk}/rooms/new/", {"name": "Archive", "floor": "-1", "area": "20"}
    )
    client.post(f"/sites/{world.site_a.pk}/rooms/new/", {"name": "Yard", "outdoor": "on"})
    archive, yard = Room.objects.get(name="Archive"), Room.objects.get(name="Yard")
    assert (archive.floor, archive.outdoor) == (-1, False)
    assert (yard.floor, yard.outdoor) == (None, True)
    sites = body(client.get(f"/sites/{world.site_a.pk}/"))
    assert "basement 1" in sites
    assert f'{yard.name}</a> <span class="muted">outdoors</span>' in sites
    assert '<p class="muted">Basement 1 · 20 m²</p>' in body(client.get(f"/rooms/{archive.pk}/"))
    assert '<p class="muted">Outdoors</p>' in body(client.get(f"/rooms/{yard.pk}/"))


def test_an_edit_turns_a_room_outdoors_and_back(world, client):
    client.force_login(world.alice)
    edit = f"/rooms/{world.room_a.pk}/edit/"
    client.post(edit, {"name": "secretA room", "outdoor": "on", "floor": "3"})
    world.room_a.refresh_from_db()
    assert (world.room_a.outdoor, world.room_a.floor) == (True, 3)
    assert re.search(r'<input type="checkbox" name="outdoor"[^>]* checked>', body(client.get(edit)))
    client.post(edit, {"name": "secretA room", "floor": "3"})  # an unticked box: indoors
    world.room_a.refresh_from_db()
    assert world.room_a.outdoor is False


def test_a_room_0_m_high_is_indoors_now_unless_it_says_otherwise(world, client):
    # The old guess is gone: a height of 0 (or none) says nothing about a ceiling.
    world.room_a.height = 0
    world.room_a.save(update_fields=["height"])
    co2 = Quantity.objects.get(key="co2")
    Latest.objects.create(node=world.node_a, quantity=co2, ts=timezone.now(), value=1500)
    client.force_login(world.alice)
    page = body(client.get(f"/rooms/{world.room_a.pk}/"))
    assert '<span class="level" data-level>Poor</span>' in page
    world.room_a.outdoor = True
    world.room_a.save(update_fields=["outdoor"])
    page = body(client.get(f"/rooms/{world.room_a.pk}/"))
    assert "data-level" not in page and "data-outdoor" in page


def test_the_floor_field_refuses_what_the_api_refuses(world, client):
    client.force_login(world.alice)
    response = client.post(
        f"/sites/{world.site_a.pk}/rooms/new/", {"name": "Sky lobby", "floor": "900"}
    )
    assert response.status_code == 200
    assert "less than or equal to 300" in body(response)
    assert not Room.objects.filter(name="Sky lobby").exists()
