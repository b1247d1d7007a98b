"""Room.floor and Room.outdoor (issue 19): said by the owner, not guessed from a height of
0; the API and the OpenAPI schema describe both; migration 0012 marks the rooms of the
old convention outdoors."""

import importlib

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator

from sensorgrid.inventory import demo
from sensorgrid.inventory.models import Room
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_alice_creates_an_outdoor_yard_and_a_basement_through_the_api(world, client):
    client.force_login(world.alice)
    yard = client.post(
        "/api/v1/rooms/",
        {"site": world.site_a.pk, "name": "Schoolyard", "outdoor": True, "floor": 0},
        content_type="application/json",
    )
    assert yard.status_code == 201, yard.json()
    assert (yard.json()["outdoor"], yard.json()["floor"]) == (True, 0)
    cellar = client.post(
        "/api/v1/rooms/",
        {"site": world.site_a.pk, "name": "Boiler room", "floor": -2},
        content_type="application/json",
    ).json()
    assert (cellar["outdoor"], cellar["floor"]) == (False, -2)  # indoors unless said
    listed = {
        r["name"]: r for r in client.get(f"/api/v1/rooms/?site={world.site_a.pk}").json()["results"]
    }
    assert listed["secretA room"]["floor"] is None and listed["secretA room"]["outdoor"] is False


def test_a_floor_out_of_any_building_is_a_400_naming_the_field(world, client):
    client.force_login(world.alice)
    response = client.patch(
        f"/api/v1/rooms/{world.room_a.pk}/", {"floor": 5000}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "floor" in response.json()
    response = client.patch(
        f"/api/v1/rooms/{world.room_a.pk}/", {"outdoor": "maybe"}, content_type="application/json"
    )
    assert response.status_code == 400 and "outdoor" in response.json()


def test_the_openapi_schema_describes_floor_and_outdoor():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    room = schema["components"]["schemas"]["Room"]["properties"]
    assert "ground floor" in room["floor"]["description"]
    assert room["floor"]["nullable"] is True
    assert room["outdoor"]["type"] == "boolean"
    assert "CO2 traffic light" in room["outdoor"]["description"]


def test_the_migration_marks_rooms_of_the_old_convention_outdoors(world):
    # Until 0012 a room 0 m high meant open air; the data migration says so explicitly.
    yard = f.RoomFactory(site=world.site_a, name="Yard", height=0)
    hall = f.RoomFactory(site=world.site_a, name="Hall", height=8)
    unknown = f.RoomFactory(site=world.site_a, name="Unknown", height=None)
    migration = importlib.import_module("sensorgrid.inventory.migrations.0012_room_floor_outdoor")
    migration.outdoor_from_height(apps, None)
    outdoor = dict(Room.objects.filter(site=world.site_a).values_list("name", "outdoor"))
    assert outdoor[yard.name] is True
    assert outdoor[hall.name] is False and outdoor[unknown.name] is False


def test_floor_labels_read_as_people_say_them(world):
    labels = {}
    for floor in (None, 0, 2, -1):
        labels[floor] = Room(site=world.site_a, name="x", floor=floor).floor_label
    assert labels == {None: "", 0: "ground floor", 2: "floor 2", -1: "basement 1"}


def test_the_demos_outdoor_stations_stand_in_outdoor_rooms():
    demo.load("pw")
    outdoor = set(Room.objects.filter(outdoor=True).values_list("name", flat=True))
    assert {"Schoolyard", "Sports field", "Roof terrace", "Fleet on the road"} <= outdoor
    assert not Room.objects.filter(name__startswith="Classroom", outdoor=True).exists()
    assert Room.objects.get(name="Classroom 2").floor == 1
    for device_id in ("demo-weather-001", "demo-weather-002", "demo-kpi-101"):
        room = Room.objects.get(installations__node__device_id=device_id)
        assert room.outdoor, device_id
