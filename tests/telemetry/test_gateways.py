"""LoRaWAN gateways (issue 22, radio view): what the ingest keeps of them, the map
layers (/api/geo/gateways/, /api/geo/coverage/), the gateway page and the node's
Radio tab per gateway, each behind the organization's wall. In a browser:
tests/dashboard/test_radio_browser.py."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sensorgrid.ingest.models import IngestKey
from sensorgrid.telemetry import gateways
from sensorgrid.telemetry.models import Gateway, Reception
from tests import factories as f

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
EUI_A = "70B3D57ED005B8A1"


def uplink(gateways_heard, ts=T0, eui=EUI_A, located=None, counter=1) -> dict:
    """A TTS v3 webhook uplink heard by ``gateways_heard``: (id, rssi, (lat, lon) or None)."""
    rx = []
    for gateway, rssi, position in gateways_heard:
        entry = {"gateway_ids": {"gateway_id": gateway}, "rssi": rssi, "snr": 5.5}
        if position:
            entry["location"] = {"latitude": position[0], "longitude": position[1]}
        rx.append(entry)
    message = {
        "f_port": 1,
        "f_cnt": counter,
        "decoded_payload": {"temperature": 20.5},
        "rx_metadata": rx,
        "settings": {"data_rate": {"lora": {"spreading_factor": 9}}, "frequency": "868100000"},
    }
    if located:
        message["locations"] = {"frm-payload": {"latitude": located[0], "longitude": located[1]}}
    return {
        "end_device_ids": {"device_id": "dev", "dev_eui": eui},
        "received_at": ts.isoformat().replace("+00:00", "Z"),
        "uplink_message": message,
    }


@pytest.fixture
def post(world, django_capture_on_commit_callbacks):
    """POST uplinks to the TTN webhook with org A's ingest key; the gateway table is
    written once the batch commits, as in production."""
    holder = IngestKey(organization=world.org_a, name="network server")
    key = holder.issue()
    holder.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    def send(document):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/ingest/ttn/", json.dumps(document), content_type="application/json"
            )
        assert response.status_code == 200, response.content
        return response.json()

    return send


@pytest.fixture
def lora_node(world):
    site = f.SiteFactory(organization=world.org_a, latitude=48.1032, longitude=11.5047)
    node = f.NodeFactory(organization=world.org_a, device_id=EUI_A)
    f.InstallationFactory(node=node, room=f.RoomFactory(site=site), start=T0 - timedelta(days=10))
    return node


def test_ingest_keeps_each_gateway_with_its_last_position_and_times(post, world, lora_node):
    post(
        uplink([("gw-roof", -70, (48.2, 11.6)), ("gw-cellar", -110, None)], located=(48.15, 11.55))
    )
    later = T0 + timedelta(minutes=10)
    post(uplink([("gw-roof", -72, (48.25, 11.65))], ts=later, counter=2))
    # An older uplink arriving late (a replay) moves neither last_seen nor the position back.
    post(uplink([("gw-roof", -75, (40.0, 10.0))], ts=T0 - timedelta(hours=1), counter=3))

    roof = Gateway.objects.get(gateway_id="gw-roof")
    assert roof.organization == world.org_a
    assert (roof.latitude, roof.longitude) == (48.25, 11.65)
    assert (roof.first_seen, roof.last_seen) == (T0 - timedelta(hours=1), later)
    cellar = Gateway.objects.get(gateway_id="gw-cellar")
    assert (cellar.latitude, cellar.longitude, cellar.last_seen) == (None, None, T0)
    # the device's own position travels with each reception of that uplink
    located = Reception.objects.filter(ts=T0).values_list("latitude", "longitude")
    assert set(located) == {(48.15, 11.55)}
    assert Reception.objects.get(ts=later).latitude is None


def test_the_same_gateway_heard_by_two_organizations_is_two_gateways(world):
    gateways.record(
        [
            gateways.Heard(world.org_a.pk, "gw-shared", T0, (1.0, 2.0)),
            gateways.Heard(world.org_b.pk, "gw-shared", T0 + timedelta(minutes=1)),
            gateways.Heard(world.org_a.pk, "gw-shared", T0 + timedelta(minutes=2)),
        ]
    )
    a = Gateway.objects.get(organization=world.org_a)
    b = Gateway.objects.get(organization=world.org_b)
    assert (a.last_seen, a.latitude) == (T0 + timedelta(minutes=2), 1.0)
    assert (b.last_seen, b.latitude) == (T0 + timedelta(minutes=1), None)


def gateway(world, org, gateway_id, minutes_ago, position=(48.2, 11.6)):
    now = datetime.now(UTC)
    return Gateway.objects.create(
        organization=org,
        gateway_id=gateway_id,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        first_seen=now - timedelta(days=1),
        last_seen=now - timedelta(minutes=minutes_ago),
    )


@pytest.mark.django_db
def test_gateway_layer_shows_the_viewers_gateways_with_health(world, client_for, settings):
    settings.SENSORGRID_GATEWAY_ONLINE_SECONDS = 600
    gateway(world, world.org_a, "gw-fresh", 5)
    gateway(world, world.org_a, "gw-stale", 60)
    gateway(world, world.org_a, "gw-nowhere", 1, position=None)
    gateway(world, world.org_b, "gw-secret-b", 1)
    body = client_for(world.bob).get("/api/geo/gateways/").json()
    assert body["total"] == 3
    shown = {g["properties"]["gateway_id"]: g["properties"]["online"] for g in body["features"]}
    assert shown == {"gw-fresh": True, "gw-stale": False}
    for persona in (None, world.charlie):
        body = client_for(persona).get("/api/geo/gateways/").json()
        assert "gw-fresh" not in json.dumps(body)
    assert client_for(None).get("/api/geo/gateways/").json()["total"] == 0


def heard(node, ts, gateway_id, rssi, at=None):
    return Reception.objects.create(
        node=node,
        ts=ts,
        gateway_id=gateway_id,
        rssi=rssi,
        latitude=at[0] if at else None,
        longitude=at[1] if at else None,
    )


@pytest.mark.django_db
def test_coverage_cells_hold_the_best_rssi_where_the_uplinks_were_sent(
    world, client_for, lora_node
):
    now = datetime.now(UTC).replace(microsecond=0)
    # two uplinks without a position: at the installation's site (48.1032, 11.5047)
    heard(lora_node, now - timedelta(hours=1), "gw-1", -100)
    heard(lora_node, now - timedelta(hours=1), "gw-2", -80)
    heard(lora_node, now - timedelta(hours=2), "gw-1", -95)
    # one from where the device said it was
    heard(lora_node, now - timedelta(hours=3), "gw-1", -118, at=(48.305, 11.705))
    heard(world.node_b, now - timedelta(hours=1), "gw-b", -50)  # org B: never shown to A
    body = client_for(world.alice).get("/api/geo/coverage/?cell=0.01").json()
    cells = {tuple(c["geometry"]["coordinates"][0][0]): c["properties"] for c in body["features"]}
    assert cells == {
        (11.5, 48.1): {"best_rssi": -80.0, "receptions": 3},
        (11.7, 48.3): {"best_rssi": -118.0, "receptions": 1},
    }
    answer = client_for(world.alice).get("/api/geo/coverage/?cell=0.01&bbox=11.6,48.2,11.8,48.4")
    assert len(answer.json()["features"]) == 1
    assert client_for(world.alice).get("/api/geo/coverage/?cell=0").status_code == 400
    assert client_for(None).get("/api/geo/coverage/").json()["features"] == []
    theirs = client_for(world.charlie).get("/api/geo/coverage/").json()["features"]
    assert [c["properties"]["best_rssi"] for c in theirs] == [-50.0]  # only org B's node


@pytest.fixture
def browser_client():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.mark.django_db
def test_gateway_page_lists_the_devices_it_heard_and_is_a_404_for_others(
    world, browser_client, lora_node, settings
):
    settings.SENSORGRID_GATEWAY_ONLINE_SECONDS = 600
    now = datetime.now(UTC).replace(microsecond=0)
    roof = gateway(world, world.org_a, "gw-roof", 2)
    heard(lora_node, now - timedelta(minutes=30), "gw-roof", -90)
    heard(lora_node, now - timedelta(minutes=2), "gw-roof", -70)
    heard(world.node_a, now - timedelta(minutes=5), "gw-roof", -100)
    heard(world.node_b, now - timedelta(minutes=1), "gw-roof", -40)  # org B's node
    url = reverse("dashboard:gateway", args=[roof.pk])
    page = browser_client(world.bob).get(url).content.decode()
    assert 'data-health="online"' in page
    assert "<dd data-uplinks>3</dd>" in page and "<dd data-devices>2</dd>" in page
    assert reverse("dashboard:node-radio", args=[lora_node.pk]) in page
    assert world.node_b.device_id not in page
    assert browser_client(world.charlie).get(url).status_code == 404
    radio = browser_client(world.alice).get(reverse("dashboard:node-radio", args=[lora_node.pk]))
    assert url in radio.content.decode()  # the Radio tab links the gateway's page


@pytest.mark.django_db
def test_radio_tab_has_one_series_per_gateway(world, browser_client, lora_node):
    heard(lora_node, T0, "gw-1", -100)
    heard(lora_node, T0, "gw-2", -80)
    heard(lora_node, T0 + timedelta(minutes=5), "gw-2", -82)
    response = browser_client(world.alice).get(reverse("dashboard:node-radio", args=[lora_node.pk]))
    data = response.context["chart"]["per_gateway"]
    assert data["times"] == [T0.timestamp(), (T0 + timedelta(minutes=5)).timestamp()]
    assert [(g["id"], g["rssi"]) for g in data["gateways"]] == [
        ("gw-2", [-80.0, -82.0]),
        ("gw-1", [-100.0, None]),
    ]
    assert 'id="radio-rssi-chart"' in response.content.decode()


def test_the_demo_simulators_gateways_stand_where_they_say(
    world, django_capture_on_commit_callbacks
):
    """`sensorgrid demo`'s LoRaWAN sensors: their gateways appear on the map."""
    from sensorgrid.ingest import pipeline
    from sensorgrid.ingest.envelope import Envelope
    from sensorgrid.simulator import profiles
    from sensorgrid.simulator.backfill import ROUTES
    from sensorgrid.simulator.profiles.lorawan import GATEWAY_LOCATIONS
    from sensorgrid.simulator.registration import register
    from sensorgrid.simulator.run import Schedule, devices, history

    profile = profiles.get("lorawan")
    register(profile, devices(profile, 3, 1), "org-a")
    end = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        for _, _, sent in history(
            profile, Schedule(0.01, 3), devices(profile, 3, 1), end - timedelta(hours=1), end
        ):
            match = ROUTES.match(sent.topic)
            envelope = Envelope(match.route.source, sent.topic, sent.payload, sent.ts)
            pipeline.ingest(envelope, match.route.decoder)
    placed = {g.gateway_id: (g.latitude, g.longitude) for g in Gateway.objects.all()}
    assert placed == GATEWAY_LOCATIONS
