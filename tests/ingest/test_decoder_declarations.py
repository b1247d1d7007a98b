"""Self-describing decoders (issue 17, item 2): a network-server decoder is one module.

A throwaway decoder declared in a fixture gets its envelopes' source, its built-in MQTT
route and its webhook's ``?event=`` handling from its own declarations, with nothing
else edited; the shared ``JsonDecoder`` loop reads each JSON document alone.
"""

import json

import pytest
from rest_framework.test import APIClient

from sensorgrid.ingest import decoders
from sensorgrid.ingest.decoders.base import REGISTRY
from sensorgrid.ingest.envelope import Envelope, Message, Raw
from sensorgrid.ingest.models import IngestKey
from sensorgrid.ingest.mqtt import config
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import envelope


@pytest.fixture
def new_server():
    """A network server's decoder, registered for one test only."""

    class NewServer(decoders.JsonDecoder):
        key = "test_new_server"
        source = "lorawan"
        routes = ("newserver/+/uplink",)
        webhook_events = ("join",)

        def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
            if not isinstance(document, dict) or "eui" not in document:
                raise ValueError('"eui" is required')
            if document.get("status") == "E":
                raise decoders.Refused("device-error", "the device says E", document["eui"])
            return Message(index, document["eui"], None, (("co2", document.get("co2")),), raw)

        def device_hint(self, document: object) -> str:
            return str(document.get("id", "")) if isinstance(document, dict) else ""

    yield decoders.get("test_new_server")
    REGISTRY.remove("test_new_server")


@pytest.fixture
def network_server(world) -> APIClient:
    holder = IngestKey(organization=world.org_a, name="new network server")
    key = holder.issue()
    holder.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def post(client, path, document):
    return client.post(path, data=json.dumps(document), content_type="application/json")


def test_its_declared_route_is_built_in_with_its_source(db, settings, new_server):
    settings.SENSORGRID_MQTT_ROUTES = []
    match = config.route_table().match("newserver/app-1/uplink")
    assert match is not None
    assert (match.route.decoder, match.route.source) == ("test_new_server", "lorawan")


def test_an_admin_route_to_it_gets_its_source_too(new_server):
    assert config.source_of("test_new_server") == "lorawan"
    assert config.source_of("kpi") == "mqtt"


def test_its_webhook_answers_other_events_204_and_marks_dead_letters_lorawan(
    network_server, new_server
):
    response = post(network_server, "/api/v1/ingest/test_new_server/?event=join", {"eui": "x"})
    assert response.status_code == 204
    assert not DeadLetter.objects.exists() and not Sample.objects.exists()
    response = post(network_server, "/api/v1/ingest/test_new_server/?event=up", {"eui": "nope"})
    assert response.json()["rejected"][0]["reason"] == "unknown-device"
    assert DeadLetter.objects.get().source == "lorawan"


def test_a_decoder_without_webhook_events_ignores_the_parameter(network_server):
    response = post(network_server, "/api/v1/ingest/managair/?event=join", {"data": 1})
    assert response.status_code == 200  # read (and refused), not skipped
    assert response.json()["rejected"][0]["reason"] == "malformed"


def test_the_json_loop_refuses_each_document_alone_with_its_reason_and_device(new_server):
    payload = b'{"eui": "a", "co2": 1}\n{"id": 7}\n{"eui": "b", "status": "E"}\n[]\n'
    decoded = new_server.decode(envelope(payload, content_type="application/x-ndjson"))
    assert [m.device for m in decoded.messages] == ["a"]
    assert [(r.index, r.reason, r.device) for r in decoded.refusals] == [
        (1, "malformed", "7"),
        (2, "device-error", "b"),
        (3, "malformed", ""),
    ]


def test_the_registry_refuses_a_second_decoder_with_the_same_key(new_server):
    with pytest.raises(ValueError, match="two decoders claim the key 'test_new_server'"):

        class Again(decoders.JsonDecoder):
            key = "test_new_server"

    with pytest.raises(KeyError, match="no decoder 'nope'; known: chirpstack"):
        decoders.get("nope")
