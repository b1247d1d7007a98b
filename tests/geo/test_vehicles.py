"""Vehicles on the map (issue 22): GET /api/geo/vehicles/ and a vehicle's track, fed by
the simulator's buses through the vehicle decoder over HTTP, and the fleet page.

Positions are the stored values at full precision (the tiles used to show 48.1°)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from sensorgrid.simulator import profiles
from sensorgrid.simulator.run import devices

BUS = profiles.get("vehicle")


def credential(node) -> str:
    secret = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return secret


def drive(node, moments: list[datetime]) -> list[dict]:
    """What the simulator's bus ``node.device_id`` sends at ``moments``, posted through
    the vehicle decoder with the node's credential; the readings sent."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential(node)}")
    device = devices(BUS, 0, 1, [node.device_id])[0]
    sent = []
    for at in moments:
        values = BUS.reading(device, at)
        uplink = BUS.encode(device, values, at, 0)
        response = client.post(
            "/api/v1/ingest/vehicle/", uplink.payload, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["accepted"] == 5
        sent.append(values)
    return sent


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def buses(world):
    """org A's node and org B's node each drove for 10 minutes, one message a minute."""
    end = now()
    moments = [end - timedelta(minutes=m) for m in range(10, -1, -1)]
    return {
        "a": drive(world.node_a, moments),
        "b": drive(world.node_b, moments),
        "end": end,
    }


def vehicles(client_for, user, **params):
    response = client_for(user).get("/api/geo/vehicles/", params)
    assert response.status_code == 200, response.content
    return {f["properties"]["node"]: f for f in response.json()["features"]}


def test_members_see_their_vehicles_at_full_precision_with_the_last_hour(world, buses, client_for):
    found = vehicles(client_for, world.alice)
    assert set(found) == {world.node_a.pk}  # org B's bus never appears
    bus = found[world.node_a.pk]
    newest = buses["a"][-1]
    # Six decimals as the bus sent them, not 48.1.
    assert bus["geometry"]["coordinates"] == [newest["longitude"], newest["latitude"]]
    assert round(newest["latitude"], 1) != newest["latitude"]
    assert bus["properties"]["speed"] == newest["speed"]
    assert bus["properties"]["heading"] == newest["heading"]
    assert bus["properties"]["device_id"] == "secretA-node"
    track = bus["properties"]["track"]
    assert len(track) == 11
    assert track[-1][1:] == [newest["latitude"], newest["longitude"]]
    assert [p[0] for p in track] == sorted(p[0] for p in track)


def test_online_follows_the_newest_position_within_the_configured_seconds(
    world, buses, client_for, settings
):
    assert vehicles(client_for, world.alice)[world.node_a.pk]["properties"]["online"] is True
    settings.SENSORGRID_FLEET_ONLINE_SECONDS = 0.0
    # The newest position is from this second: 0 s later it is already older.
    body = client_for(world.alice).get("/api/geo/vehicles/").json()
    assert body["online_seconds"] == 0.0
    assert body["features"][0]["properties"]["online"] is False


def test_strangers_see_no_private_vehicle_and_anonymous_only_public_ones(world, buses, client_for):
    assert set(vehicles(client_for, world.charlie)) == {world.node_b.pk}
    assert vehicles(client_for, None) == {}
    # A vehicle with a public installation: everybody sees it, since the installation.
    start = buses["end"] - timedelta(minutes=4, seconds=30)
    world.public_installation.start = start
    world.public_installation.save()
    moments = [buses["end"] - timedelta(minutes=m) for m in range(10, -1, -1)]
    drive(world.public_node, moments)
    public = vehicles(client_for, None)
    assert set(public) == {world.public_node.pk}
    properties = public[world.public_node.pk]["properties"]
    assert "device_id" not in properties and properties["is_public"] is True
    assert properties["name"] == world.public_node.alias
    # Without an alias, a stranger gets a number, not the device id (it is in MQTT topics).
    world.public_node.alias = ""
    world.public_node.save()
    public = vehicles(client_for, None)
    assert public[world.public_node.pk]["properties"]["name"] == f"Device {world.public_node.pk}"
    assert world.public_node.device_id not in json.dumps(public)
    assert len(properties["track"]) == 5  # minutes 4 … 0, not before the installation


def test_a_track_covers_the_asked_range_with_speeds(world, buses, client_for):
    client = client_for(world.alice)
    end = buses["end"]
    response = client.get(
        f"/api/geo/vehicles/{world.node_a.pk}/track/",
        {"start": (end - timedelta(minutes=5)).isoformat(), "end": end.isoformat()},
    )
    assert response.status_code == 200
    body = response.json()
    points = body["properties"]["points"]
    assert len(points) == 6
    assert [p[3] for p in points] == [r["speed"] for r in buses["a"][-6:]]
    assert body["geometry"]["coordinates"][-1] == [
        buses["a"][-1]["longitude"],
        buses["a"][-1]["latitude"],
    ]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-01-03T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "start"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z"}, "end"),
    ],
)
def test_a_bad_range_is_a_400_naming_the_parameter(world, buses, client_for, params, field):
    response = client_for(world.alice).get(f"/api/geo/vehicles/{world.node_a.pk}/track/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_another_organizations_vehicle_track_is_a_404(world, buses, client_for):
    for user in (world.alice, None):
        response = client_for(user).get(f"/api/geo/vehicles/{world.node_b.pk}/track/")
        assert response.status_code == 404
    assert client_for(world.alice).get("/api/geo/vehicles/99999999999/track/").status_code == 404
    assert client_for(world.alice).get("/api/geo/vehicles/", {"track": "x"}).status_code == 400


def test_the_fleet_page_lists_the_users_vehicles_only(world, buses, client):
    client.force_login(world.alice)
    page = client.get("/fleet/").content.decode()
    newest = buses["a"][-1]
    assert f"{newest['latitude']:.6f}, {newest['longitude']:.6f}" in page
    assert "secretB" not in page and f'data-vehicle="{world.node_b.pk}"' not in page
    assert 'data-online="true"' in page
    client.logout()
    assert "No vehicles" in client.get("/fleet/").content.decode()
