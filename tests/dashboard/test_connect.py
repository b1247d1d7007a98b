"""The Connect panel (issue 19, onboarding): after a node is created, and on its Connect
page, the exact settings a device needs (broker host, port, TLS, user, topics, the HTTP
URL, LoRaWAN webhooks) and commands that work as pasted; the credential only in the
answer that issued it; a live line that turns from waiting to received, or shows the
dead letter that arrived instead. Members only: a stranger gets 404."""

import html
import json
import re
import shlex
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from sensorgrid.inventory.models import Node, NodeModel, Quantity
from tests import factories as f

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def credential_in(response) -> str:
    match = re.search(
        r'id="credential" class="secret" type="text" readonly value="([^"]+)"', body(response)
    )
    assert match, "no credential on the page"
    return match.group(1)


def command(response, element_id: str) -> str:
    """The command in the panel's text area ``element_id``, as a user copies it."""
    match = re.search(rf'<textarea id="{element_id}"[^>]*>([^<]*)</textarea>', body(response))
    assert match, f"no #{element_id} on the page"
    return html.unescape(match.group(1))


def facts(response, name: str) -> list[str]:
    found = re.findall(rf'data-fact="{name}">([^<]*)<', body(response))
    return [html.unescape(value) for value in found]


def run_curl(client: Client, line: str):
    """Do what the shown curl line does, through the test client (same URL, headers, body)."""
    words = shlex.split(line)
    assert words[:3] == ["curl", "-X", "POST"]
    url = words[3].removeprefix("http://testserver")
    headers, data = {}, None
    rest = iter(words[4:])
    for flag in rest:
        value = next(rest)
        if flag == "-H":
            name, _, header = value.partition(": ")
            headers[name.lower()] = header
        elif flag == "-d":
            data = value
        else:
            raise AssertionError(f"unexpected curl option {flag}")
    content_type = headers.pop("content-type")
    return client.post(url, data=data, content_type=content_type, headers=headers)


def status(client: Client, node: Node) -> dict:
    response = client.get(f"/nodes/{node.pk}/connect/status/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    return response.json()


@pytest.fixture
def alice(world, client):
    client.force_login(world.alice)
    return client


def create(client, world, device_id="new-co2-1", **fields):
    data = {"organization": world.org_a.pk, "device_id": device_id, "alias": "Lab monitor"}
    response = client.post("/nodes/new/", {**data, **fields})
    assert response.status_code == 200
    return response, Node.objects.get(device_id__iexact=device_id)


@override_settings(
    SENSORGRID_PUBLIC_MQTT_URL="", SENSORGRID_MQTT_URL="mqtt://ingest:s3cret@broker.internal:1884"
)
def test_an_mqtt_nodes_panel_shows_its_broker_user_topic_and_url(world, alice):
    response, node = create(alice, world)
    page = body(response)
    assert facts(response, "mqtt-host") == ["broker.internal"]
    assert facts(response, "mqtt-port") == ["1884"]
    assert re.search(r'data-fact="mqtt-tls">no<', page)
    assert facts(response, "mqtt-username") == [f"node-{node.pk}"]
    topics = facts(response, "mqtt-topic")
    assert topics[0] == "sensorgrid/new-co2-1/up"  # the SensorGrid JSON topic first
    assert "device/data/new-co2-1" in topics  # the vehicle decoder's route names it too
    assert "kpi/new-co2-1/#" in topics  # any topic below: a filter the broker allows
    assert facts(response, "http-url") == ["http://testserver/api/v1/ingest/"]
    assert "s3cret" not in page and "ingest:" not in page  # the service's own login stays hidden
    assert 'data-fact="ttn-url"' not in page

    credential = credential_in(response)
    pub = command(response, "connect-mosquitto")
    assert shlex.split(pub) == [
        "mosquitto_pub", "-h", "broker.internal", "-p", "1884", "-q", "1",
        "-u", f"node-{node.pk}", "-P", credential, "-t", "sensorgrid/new-co2-1/up",
        "-m", '{"values": {"co2": 612, "temperature": 21.5}}',
    ]  # fmt: skip
    assert run_curl(Client(), command(response, "connect-curl")).status_code in (200, 202)
    assert status(alice, node)["state"] == "received"


@override_settings(SENSORGRID_PUBLIC_MQTT_URL="mqtts://mqtt.example.org")
def test_the_public_broker_address_is_what_devices_see(world, alice):
    response = alice.get(f"/nodes/{world.node_a.pk}/connect/")
    assert facts(response, "mqtt-host") == ["mqtt.example.org"]
    assert facts(response, "mqtt-port") == ["8883"]
    assert re.search(r'data-fact="mqtt-tls">yes<', body(response))
    assert "--capath /etc/ssl/certs" in command(response, "connect-mosquitto")
    assert "local to the SensorGrid machine" not in body(response)


@override_settings(SENSORGRID_PUBLIC_MQTT_URL="", SENSORGRID_MQTT_URL="mqtt://127.0.0.1:1883")
def test_a_loopback_broker_is_flagged_as_unreachable_for_devices(world, alice):
    response = alice.get(f"/nodes/{world.node_a.pk}/connect/")
    assert facts(response, "mqtt-host") == ["127.0.0.1"]
    assert "local to the SensorGrid machine" in body(response)
    assert "SENSORGRID_PUBLIC_MQTT_URL" in body(response)


@override_settings(
    SENSORGRID_PUBLIC_MQTT_URL="", SENSORGRID_MQTT_URL="mqtt://ingest:s3cret@broker:18x3"
)
def test_a_bad_broker_url_is_said_on_the_panel_and_the_credential_still_shown(world, alice):
    response, node = create(alice, world)
    assert node.check_credential(credential_in(response))
    page = body(response)
    assert "The broker address is not set up right" in page
    assert "the operator fixes <code>SENSORGRID_MQTT_URL</code>" in page
    assert "s3cret" not in page  # the parser's message quotes the URL: not shown
    assert 'data-fact="mqtt-host"' not in page and 'id="connect-mosquitto"' not in page
    assert facts(response, "mqtt-username") == [f"node-{node.pk}"]
    assert run_curl(Client(), command(response, "connect-curl")).status_code in (200, 202)


def test_a_lorawan_nodes_panel_shows_the_webhooks_and_its_models_quantities(world, alice):
    model = f.NodeModelFactory(organization=world.org_a, name="ERS CO2", protocol="lorawan")
    model.quantities.set(Quantity.objects.filter(key__in=["temperature", "co2", "humidity"]))
    response, node = create(alice, world, device_id="A81758FFFE0312AB", model=model.pk)
    assert node.device_id == "a81758fffe0312ab"
    assert facts(response, "ttn-url") == [
        "http://testserver/api/v1/ingest/ttn/devices/a81758fffe0312ab/"
    ]
    assert facts(response, "chirpstack-url") == ["http://testserver/api/v1/ingest/chirpstack/"]
    assert facts(response, "ttn-application-url") == ["http://testserver/api/v1/ingest/ttn/"]
    assert facts(response, "mqtt-username") == [f"node-{node.pk}"]
    curl = command(response, "connect-curl")
    sent = json.loads(shlex.split(curl)[-1])
    assert sent == {
        "device": "a81758fffe0312ab",
        "values": {"co2": 612, "humidity": 41, "temperature": 21.5},
    }
    ttn = run_curl(Client(), command(response, "connect-ttn-curl"))
    assert ttn.status_code in (200, 202), ttn.content
    assert ttn.json()["accepted"] == 3
    answer = status(alice, node)
    assert answer["state"] == "received"
    assert answer["received"]["text"].endswith(": co2 612 ppm, humidity 41 %, temperature 21.5 °C")


def test_the_credential_is_only_in_the_answer_that_issued_it(world, alice):
    response, node = create(alice, world)
    credential = credential_in(response)
    assert credential in command(response, "connect-curl")
    assert credential in command(response, "connect-mosquitto")
    assert "no-store" in response["Cache-Control"]

    later = alice.get(f"/nodes/{node.pk}/connect/")
    assert later.status_code == 200
    # the node's tab bar, Connect marked as the page shown
    assert re.search(
        rf'<a href="/nodes/{node.pk}/connect/" data-tab="connect" aria-current="page">Connect</a>',
        body(later),
    )
    assert f'href="/nodes/{node.pk}/settings/" data-tab="settings"' in body(later)
    assert credential not in body(later)
    assert "Bearer <your credential>" in command(later, "connect-curl")
    assert "-P '<your credential>'" in command(later, "connect-mosquitto")
    assert f'action="/nodes/{node.pk}/rotate-credential/"' in body(later)

    rotated = alice.post(f"/nodes/{node.pk}/rotate-credential/")
    new = credential_in(rotated)
    assert new != credential and new in command(rotated, "connect-curl")
    assert run_curl(Client(), command(rotated, "connect-curl")).status_code in (200, 202)
    assert new not in body(alice.get(f"/nodes/{node.pk}/connect/"))


def test_the_status_turns_from_waiting_to_received_after_a_real_ingest(world, alice):
    world.org_a.time_zone = "Asia/Kolkata"  # UTC+05:30: the organization's clock, not UTC
    world.org_a.save(update_fields=["time_zone"])
    response, node = create(alice, world)
    first = status(alice, node)
    assert first["state"] == "waiting" and first["waiting"] == "Waiting for the first message…"
    assert "Waiting for the first message…" in body(response)
    stored = Client().post(
        "/api/v1/ingest/",
        data=json.dumps({"device": "new-co2-1", "values": {"co2": 612, "temperature": 21.5}}),
        content_type="application/json",
        headers={"authorization": f"Bearer {credential_in(response)}"},
    )
    assert stored.json()["accepted"] == 2
    answer = status(alice, node)
    assert answer["state"] == "received"
    assert re.fullmatch(
        r"Received \d\d:\d\d:\d\d: co2 612 ppm, temperature 21.5 °C", answer["received"]["text"]
    )
    node.refresh_from_db()
    local = node.last_seen.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    assert answer["received"]["text"].startswith(f"Received {local:%H:%M:%S}: ")
    assert answer["time_zone"] == "Asia/Kolkata"
    page = body(alice.get(f"/nodes/{node.pk}/connect/"))
    assert 'data-state="received"' in page and "co2 612 ppm" in page


def test_the_status_shows_the_dead_letter_of_a_malformed_post(world, alice):
    response, node = create(alice, world)
    refused = Client().post(
        "/api/v1/ingest/",
        data='{"device": "new-co2-1", "values": {"co2": 6',
        content_type="application/json",
        headers={"authorization": f"Bearer {credential_in(response)}"},
    )
    assert refused.status_code == 400
    answer = status(alice, node)
    assert answer["state"] == "refused"
    assert answer["refused"]["reason"] == "malformed"
    assert answer["refused"]["text"].startswith("Refused ")
    assert "malformed" in answer["refused"]["text"]
    assert alice.get(answer["refused"]["url"]).status_code == 200  # the letter's own page
    page = body(alice.get(f"/nodes/{node.pk}/connect/"))
    assert 'data-state="refused"' in page and "malformed" in page


def test_a_letter_naming_the_device_sent_with_an_ingest_key_is_the_nodes_too(world, alice):
    from sensorgrid.ingest.models import IngestKey

    _, node = create(alice, world)
    key = IngestKey(organization=world.org_a, name="gateway")
    secret = key.issue()
    key.save()
    answer = Client().post(
        "/api/v1/ingest/",
        data=json.dumps({"device": "new-co2-1", "values": {"radon": 3}}),
        content_type="application/json",
        headers={"authorization": f"Bearer {secret}"},
    )
    assert answer.json()["rejected"][0]["reason"] == "unknown-quantity"
    assert status(alice, node)["refused"]["reason"] == "unknown-quantity"
    other = f.NodeFactory(organization=world.org_a, device_id="another-1")
    assert status(alice, other)["state"] == "waiting"  # not every letter of the organization


def test_strangers_get_404_and_anonymous_the_login(world, client):
    node = world.node_a
    client.force_login(world.charlie)  # owner of org B
    assert client.get(f"/nodes/{node.pk}/connect/").status_code == 404
    assert client.get(f"/nodes/{node.pk}/connect/status/").status_code == 404
    assert world.node_a.device_id not in body(client.get(f"/nodes/{node.pk}/connect/status/"))
    client.force_login(world.dave)  # staff, no membership: no exception
    assert client.get(f"/nodes/{node.pk}/connect/status/").status_code == 404
    client.logout()
    assert client.get(f"/nodes/{node.pk}/connect/status/").status_code == 302
    client.force_login(world.root)  # operators see every node
    assert client.get(f"/nodes/{node.pk}/connect/status/").status_code == 200


def test_an_inspector_sees_the_connect_page_without_the_rotate_button(world, client):
    client.force_login(world.bob)
    response = client.get(f"/nodes/{world.node_a.pk}/connect/")
    assert response.status_code == 200
    page = body(response)
    assert facts(response, "mqtt-username") == [f"node-{world.node_a.pk}"]
    assert "rotate-credential" not in page and "Rotate the credential" not in page
    assert "An owner of Org A can rotate it." in page
    assert status(client, world.node_a)["state"] in ("waiting", "received", "refused")
    assert client.post(f"/nodes/{world.node_a.pk}/rotate-credential/").status_code == 403


def test_a_model_without_quantities_sends_co2_and_temperature(world, alice):
    response = alice.get(f"/nodes/{world.node_a.pk}/connect/")
    assert json.loads(shlex.split(command(response, "connect-curl"))[-1])["values"] == {
        "co2": 612,
        "temperature": 21.5,
    }
    assert NodeModel.objects.get(pk=world.model_a.pk).quantities.count() == 0


def test_an_uplink_whose_values_were_refused_is_shown_refused_not_received(world, alice):
    # A network server's uplink moves last_seen (gateways heard the node) at the very
    # time its refusal is filed: the panel must show the refusal, not "Received".
    _, node = create(alice, world)
    at = timezone.now().replace(microsecond=0)
    Node.objects.filter(pk=node.pk).update(last_seen=at)
    f.DeadLetterFactory(node=node, received_at=at, reason="decoder-error", detail="bad frame")
    answer = status(alice, node)
    assert answer["state"] == "refused"
    assert answer["refused"]["reason"] == "decoder-error"


def test_an_old_refusal_names_its_day(world, alice):
    _, node = create(alice, world)
    at = timezone.now() - timedelta(days=3)
    f.DeadLetterFactory(node=node, received_at=at)
    text = status(alice, node)["refused"]["text"]
    day = at.astimezone(zoneinfo.ZoneInfo(world.org_a.time_zone)).date().isoformat()
    assert text.startswith(f"Refused {day} "), text
