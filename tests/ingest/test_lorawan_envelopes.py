"""Uplinks as they really arrive (issue 18): The Things Stack's wrapped forms (item 1),
which decode wins and how formatter fields become quantities (item 6), and messages
with damaged parts (item 7).

The documents follow The Things Stack's published examples (Storage Integration
"Retrieve messages", data formats, events) and ChirpStack v3's json marshaler.
"""

import base64
import json
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.decoders import lorawan
from sensorgrid.ingest.envelope import Authority
from sensorgrid.ingest.models import IngestKey
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests import factories as f
from tests.ingest.conftest import envelope
from tests.ingest.test_lorawan import (
    CHIRPSTACK_V3_JSON,
    DEV_EUI,
    FRAME,
    BytesCodec,
    ttn_uplink,
)

# The Things Stack docs, Storage Integration, "Retrieve messages": the example answer,
# one result per line (frm_payload AQoBCgEKAQo= is 01 0A 01 0A …).
STORAGE_RESULT = {
    "result": {
        "end_device_ids": {
            "device_id": "dev1",
            "application_ids": {"application_id": "app1"},
            "dev_eui": "1111111111111111",
            "dev_addr": "014457CB",
        },
        "received_at": "2020-08-24T10:08:44.868680817Z",
        "uplink_message": {
            "session_key_id": "AXPoziFRvbcEguvZQoCCZw==",
            "f_port": 10,
            "f_cnt": 43,
            "frm_payload": "AQoBCgEKAQo=",
            "rx_metadata": [
                {
                    "gateway_ids": {"gateway_id": "gtw1"},
                    "time": "2020-08-24T10:08:43.385687165Z",
                    "timestamp": 3313328983,
                }
            ],
            "settings": {
                "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 12}},
                "coding_rate": "4/5",
                "frequency": "868100000",
                "timestamp": 3313328983,
            },
            "received_at": "2020-08-24T10:08:44.634338856Z",
        },
    }
}
STORED_AT = datetime(2020, 8, 24, 10, 8, 44, 868680, tzinfo=UTC)


def second_result() -> dict:
    result = json.loads(json.dumps(STORAGE_RESULT))
    result["result"]["received_at"] = "2020-08-24T10:08:49.144907967Z"
    result["result"]["uplink_message"]["f_cnt"] = 44
    return result


def event(name: str, data: dict) -> dict:
    """An event of The Things Stack's events API / console, carrying ``data``."""
    return {
        "name": name,
        "time": "2025-05-25T13:42:11.420Z",
        "identifiers": [{"device_ids": data.get("end_device_ids", {})}],
        "data": {"@type": "type.googleapis.com/ttn.lorawan.v3.ApplicationUp", **data},
        "correlation_ids": ["as:up:01HX6YGQ7E0V83YRZ7K4S5J4ZN"],
        "origin": "ip-10-100-5-238.eu-west-1.compute.internal",
        "visibility": {"rights": ["RIGHT_APPLICATION_TRAFFIC_READ"]},
        "unique_id": "01HX6YGQ7F8WQ9BWGK4DKZ4Q4N",
    }


def uplink_only() -> dict:
    """A webhook message filtered to ``up.uplink_message``: no end_device_ids."""
    document = ttn_uplink({"temperature_1": 21.5}, frame=None)
    return {"uplink_message": document["uplink_message"]}


@pytest.fixture
def codec_model(world):
    return f.NodeModelFactory(organization=world.org_a, codec=BytesCodec.key)


@pytest.fixture
def network_server(world) -> APIClient:
    holder = IngestKey(organization=world.org_a, name="The Things Stack")
    key = holder.issue()
    holder.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def ingest(payload: bytes, key: str = "ttn", **kwargs):
    authority = kwargs.pop("authority", None)
    return pipeline.ingest(envelope(payload, authority, **kwargs), key)


def stored() -> set[tuple[str, str, datetime, float]]:
    return {
        (s.node.device_id, s.quantity.key, s.ts, s.value)
        for s in Sample.objects.select_related("node", "quantity")
    }


# --- item 1: The Things Stack envelopes -----------------------------------------------


@pytest.mark.parametrize("form", ["ndjson", "array"])
def test_storage_integration_results_are_stored_line_by_line_or_as_an_array(
    world, codec_model, form
):
    node = f.NodeFactory(organization=world.org_a, device_id="1111111111111111", model=codec_model)
    results = [STORAGE_RESULT, second_result()]
    if form == "ndjson":
        payload = "\n".join(json.dumps(r) for r in results).encode()
    else:
        payload = json.dumps(results).encode()
    outcome = ingest(payload)
    assert outcome.rejected == [] and outcome.accepted == 4
    # the frame 01 0A 01 … read by the model's codec: 1 °C, 0x0A01 = 2561 ppm CO2
    assert stored() == {
        ("1111111111111111", "temperature", STORED_AT, 1.0),
        ("1111111111111111", "co2", STORED_AT, 2561.0),
        ("1111111111111111", "temperature", datetime(2020, 8, 24, 10, 8, 49, 144907, UTC), 1.0),
        ("1111111111111111", "co2", datetime(2020, 8, 24, 10, 8, 49, 144907, UTC), 2561.0),
    }
    assert sorted(r.frame_counter for r in Reception.objects.filter(node=node)) == [43, 44]


def test_an_uplink_event_of_the_console_or_events_api_is_stored(world, codec_model):
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=codec_model)
    forward = event("as.up.data.forward", ttn_uplink())
    # the events API streams each event inside "result"; the console exports a list
    for document in (forward, {"result": forward}, [forward]):
        outcome = ingest(json.dumps(document).encode())
        assert outcome.rejected == []
    assert {(key, value) for _, key, _, value in stored()} == {("temperature", 21), ("co2", 612)}
    assert Reception.objects.count() == 2


def test_other_events_carry_nothing_and_are_skipped(world, codec_model):
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=codec_model)
    others = [
        event("as.up.location.forward", {"end_device_ids": {"dev_eui": DEV_EUI}}),
        event("ns.up.data.receive", {"end_device_ids": {"dev_eui": DEV_EUI}}),
    ]
    outcome = ingest(json.dumps(others).encode())
    assert (outcome.accepted, outcome.rejected) == (0, [])
    assert not DeadLetter.objects.exists() and not Reception.objects.exists()


@pytest.mark.parametrize(
    "path_device",
    ["eui-70b3d57ed005b89a", DEV_EUI, DEV_EUI.lower()],  # {{.devID}}, {{.devEUI}}
)
def test_a_webhook_filtered_to_the_uplink_takes_the_device_from_its_path(
    world, network_server, path_device
):
    node = f.NodeFactory(organization=world.org_a, device_id=path_device.lower())
    response = network_server.post(
        f"/api/v1/ingest/ttn/devices/{path_device}/",
        data=json.dumps(uplink_only()),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert Sample.objects.get().node_id == node.pk
    assert Reception.objects.filter(node=node).count() == 2


def test_without_a_device_in_path_or_body_the_uplink_is_refused_naming_why(world, network_server):
    response = network_server.post(
        "/api/v1/ingest/ttn/", data=json.dumps(uplink_only()), content_type="application/json"
    )
    assert response.status_code == 200
    [rejection] = response.json()["rejected"]
    assert rejection["reason"] == "malformed"
    assert '"end_device_ids" must be an object' in rejection["detail"]


def test_an_unknown_device_of_the_path_is_a_dead_letter_naming_it(world, network_server):
    network_server.post(
        f"/api/v1/ingest/ttn/devices/{DEV_EUI}/",
        data=json.dumps(uplink_only()),
        content_type="application/json",
    )
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.device_id) == ("unknown-device", DEV_EUI.lower())
    assert letter.topic == f"/api/v1/ingest/ttn/devices/{DEV_EUI}/"


def test_over_mqtt_the_device_of_an_uplink_only_message_comes_from_the_topic(world):
    node = f.NodeFactory(organization=world.org_a, device_id="garden-sensor")
    outcome = ingest(
        json.dumps(uplink_only()).encode(),
        authority=Authority(world.org_a.pk, None, "mqtt-route", 1),
        source="lorawan",
        topic="v3/weather-stations@ttn/devices/garden-sensor/up",
    )
    assert (outcome.accepted, outcome.rejected) == (1, [])
    assert Sample.objects.get().node_id == node.pk


# --- item 6: which decode wins; formatter fields ------------------------------------


def test_the_node_models_codec_decides_over_the_network_servers_decoding(world, codec_model):
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=codec_model)
    # an older formatter in the network server says something else about the same frame
    outcome = ingest(json.dumps(ttn_uplink({"temperature": 99.0, "firmware": 3})).encode())
    assert outcome.rejected == []
    assert {(key, value) for _, key, _, value in stored()} == {("temperature", 21), ("co2", 612)}
    assert not DeadLetter.objects.exists()  # the formatter's fields are not read at all


def test_formatter_fields_that_name_no_quantity_are_dead_lettered_by_name(world):
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI)  # no codec
    decoded = {"temperature_1": 21.5, "counter": 7, "Bat_status": 3, "Work_mode": "DS18B20"}
    outcome = ingest(json.dumps(ttn_uplink(decoded, frame=FRAME)).encode())
    assert outcome.accepted == 1
    letter = DeadLetter.objects.get()
    assert letter.reason == "unknown-quantity"
    assert letter.detail == (
        "'counter' is not a known quantity; 'bat_status' is not a known quantity"
    )
    assert json.loads(bytes(letter.payload))["uplink_message"]["decoded_payload"] == decoded


@pytest.mark.parametrize(
    ("decoded", "volts"),
    [
        ({"vdd": 3600}, 3.6),  # Elsys' elsys.js: supply voltage in mV
        ({"BatV": 3.062}, 3.062),  # Dragino LHT65: volts
        ({"bat": 3012}, 3.012),
        ({"battery": 3.3}, 3.3),
        ({"battery_mv": 2950}, 2.95),
        ({"Battery_Voltage": 12.6}, 12.6),
    ],
)
def test_battery_voltage_fields_are_battery_in_volts(decoded, volts):
    assert dict(lorawan.formatter_values(decoded)) == {"battery": volts}


def test_a_pir_count_is_a_count_not_a_motion_flag():
    assert dict(lorawan.formatter_values({"pir_count": 4, "presence_1": 1})) == {
        "motion_count": 4,
        "motion": 1,
    }


def test_the_elsys_codec_stores_a_pir_count_as_counted(world):
    model = f.NodeModelFactory(organization=world.org_a, codec="elsys")
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    # Elsys' ERS CO2 example frame: motion (PIR) 6 in the interval
    frame = bytes.fromhex("0100E202290400270506060308")
    outcome = ingest(json.dumps(ttn_uplink({"motion": 6}, frame=frame)).encode())
    assert outcome.rejected == []
    values = {key: value for _, key, _, value in stored()}
    assert values["motion_count"] == 6 and "motion" not in values


# --- item 7: damaged parts -------------------------------------------------------------


def test_a_chirpstack_v3_uplink_with_broken_data_keeps_its_object_and_receptions(world):
    node = f.NodeFactory(organization=world.org_a, device_id="0202020202020202")
    document = dict(CHIRPSTACK_V3_JSON, data="not base64!")
    outcome = ingest(json.dumps(document).encode(), "chirpstack_v3")
    assert outcome.accepted == 2
    assert {(key, value) for _, key, _, value in stored()} == {
        ("temperature", 25),
        ("humidity", 32),
    }
    assert Reception.objects.filter(node=node).count() == 1
    letter = DeadLetter.objects.get()
    assert letter.reason == "malformed"
    assert letter.detail == '"data" is not valid base64: the frame was not decoded'
    assert (letter.device_id, letter.node_id) == ("0202020202020202", node.pk)


def test_a_ttn_uplink_with_broken_frm_payload_keeps_its_decoded_payload(world):
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI)
    document = ttn_uplink({"temperature_1": 21.5})
    document["uplink_message"]["frm_payload"] = "not base64!"
    outcome = ingest(json.dumps(document).encode())
    assert outcome.accepted == 1 and Reception.objects.count() == 2
    assert DeadLetter.objects.get().detail.startswith('"frm_payload" is not valid base64')


@pytest.mark.parametrize(
    ("key", "document", "device"),
    [
        # base64 DevEUI (json marshaler) with an unreadable time: refused before lookup
        ("chirpstack_v3", dict(CHIRPSTACK_V3_JSON, publishedAt="soon"), "0202020202020202"),
        # an upper-case DevEUI, as The Things Stack writes it
        ("ttn", dict(ttn_uplink(), received_at="yesterday"), DEV_EUI.lower()),
    ],
)
def test_a_dead_letter_refused_before_lookup_names_the_device_as_registered(
    world, key, document, device
):
    outcome = ingest(json.dumps(document).encode(), key)
    assert [r.reason for r in outcome.rejected] == ["malformed"]
    assert DeadLetter.objects.get().device_id == device


def test_the_dead_letter_of_a_broken_frame_is_replayable(world):
    f.NodeFactory(organization=world.org_a, device_id="0202020202020202")
    raw = json.dumps(dict(CHIRPSTACK_V3_JSON, data=base64.b64encode(FRAME).decode()[:-1])).encode()
    ingest(raw, "chirpstack_v3", authority=Authority(world.org_a.pk))
    assert bytes(DeadLetter.objects.get().payload) == raw
