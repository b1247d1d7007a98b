"""LoRaWAN network-server uplinks: The Things Stack v3, ChirpStack v4 and v3.

Decoders are checked on the vendors' documented message shapes; the pipeline on the
two ways values arrive (the network server's decoded payload, or the binary frame
read by the node model's codec) and on what a repeated uplink must not change.
"""

import base64
import json
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from sensorgrid.ingest import codecs, decoders, pipeline
from sensorgrid.ingest.decoders import lorawan
from sensorgrid.ingest.envelope import Authority, FramePayload, Message, Radio
from sensorgrid.ingest.models import IngestKey
from sensorgrid.ingest.replay import replay
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests import factories as f
from tests.ingest.conftest import envelope

DEV_EUI = "70B3D57ED005B89A"
TS = datetime(2025, 5, 25, 13, 42, 11, 412000, tzinfo=UTC)


class BytesCodec(codecs.Codec):
    """Test codec: byte 0 temperature (int8 °C), bytes 1–2 co2 (uint16 big-endian ppm)."""

    key = "test_lorawan_bytes"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        if len(data) < 3:
            raise codecs.CodecError(len(data), "frame ends before co2 (needs 3 bytes)")
        return {
            "temperature": float(int.from_bytes(data[:1], signed=True)),
            "co2": float(int.from_bytes(data[1:3], "big")),
        }


FRAME = bytes([21]) + (612).to_bytes(2, "big")  # 21 °C, 612 ppm


def ttn_uplink(decoded: dict | None = None, frame: bytes | None = FRAME, **ids) -> dict:
    """A The Things Stack v3 uplink message as its MQTT and webhook integrations send it."""
    uplink = {
        "session_key_id": "AWNbm/4zfqx0jZ5q1NlBmw==",
        "f_port": 2,
        "f_cnt": 1834,
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": "gw-rooftop", "eui": "AA555A0000000101"},
                "time": "2025-05-25T13:42:11.392Z",
                "timestamp": 3895211423,
                "rssi": -68,
                "channel_rssi": -68,
                "snr": 9.2,
                "location": {"latitude": 47.0, "longitude": 8.0, "altitude": 430},
            },
            {
                "gateway_ids": {"gateway_id": "gw-cellar", "eui": "AA555A0000000202"},
                "channel_rssi": -117.5,
                "snr": -7.25,
            },
        ],
        "settings": {
            "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 9}},
            "coding_rate": "4/5",
            "frequency": "868100000",
            "timestamp": 3895211423,
        },
        "received_at": "2025-05-25T13:42:11.412Z",
        "consumed_airtime": "0.061696s",
    }
    if frame is not None:
        uplink["frm_payload"] = base64.b64encode(frame).decode()
    if decoded is not None:
        uplink["decoded_payload"] = decoded
    return {
        "end_device_ids": {
            "device_id": ids.get("device_id", "eui-70b3d57ed005b89a"),
            "application_ids": {"application_id": "weather-stations"},
            "dev_eui": ids.get("dev_eui", DEV_EUI),
            "join_eui": "0000000000000001",
            "dev_addr": "260BABCD",
        },
        "correlation_ids": ["as:up:01HX6YGQ7E0V83YRZ7K4S5J4ZN"],
        "received_at": "2025-05-25T13:42:11.412Z",
        "uplink_message": uplink,
    }


CHIRPSTACK_V4_UP = {
    "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
    "time": "2025-05-25T13:42:11.412345678+00:00",
    "deviceInfo": {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "ChirpStack",
        "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
        "applicationName": "Test application",
        "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
        "deviceProfileName": "Test device-profile",
        "deviceName": "garden-sensor",
        "devEui": "0101010101010101",
        "tags": {"key": "value"},
    },
    "devAddr": "00189440",
    "adr": True,
    "dr": 5,
    "fCnt": 10,
    "fPort": 1,
    "confirmed": False,
    "data": "FQJk",
    "object": {"temperature": 21.5, "humidity": 40, "counter": 7},
    "rxInfo": [
        {
            "gatewayId": "0016c001f153a14c",
            "uplinkId": 4217106255,
            "rssi": -36,
            "snr": 10.5,
            "channel": 2,
            "location": {"latitude": 52.3, "longitude": 4.9},
            "context": "E3OWOQ==",
            "crcStatus": "CRC_OK",
        }
    ],
    "txInfo": {
        "frequency": 867100000,
        "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}},
    },
}

# v3, legacy json_v3 marshaler: hex EUIs, "object", data rate instead of spreading factor.
CHIRPSTACK_V3_LEGACY = {
    "applicationID": "123",
    "applicationName": "temperature-sensor",
    "deviceName": "garden-sensor",
    "devEUI": "0202020202020202",
    "rxInfo": [
        {
            "gatewayID": "0303030303030303",
            "name": "rooftop-gateway",
            "time": "2025-05-25T13:42:11.295915988Z",
            "rssi": -57,
            "loRaSNR": 10,
            "location": {"latitude": 52.3740364, "longitude": 4.9144401, "altitude": 10.5},
        }
    ],
    "txInfo": {"frequency": 868100000, "dr": 5},
    "adr": False,
    "fCnt": 10,
    "fPort": 5,
    "data": "FQJk",
    "object": {"temperatureSensor": {"1": 25}, "temperature": 25, "humiditySensor": 32},
}

# v3, protobuf json marshaler: base64 EUIs, "objectJSON" string, modulation info.
CHIRPSTACK_V3_JSON = {
    "applicationID": "123",
    "applicationName": "temperature-sensor",
    "deviceName": "garden-sensor",
    "devEUI": "AgICAgICAgI=",
    "rxInfo": [
        {
            "gatewayID": "AwMDAwMDAwM=",
            "time": "2025-05-25T13:42:11.048445Z",
            "rssi": -48,
            "loRaSNR": 9,
            "channel": 5,
            "uplinkID": "jhMh8Gq6RAOChSKbi83RHQ==",
        }
    ],
    "txInfo": {
        "frequency": 868100000,
        "modulation": "LORA",
        "loRaModulationInfo": {"bandwidth": 125, "spreadingFactor": 11, "codeRate": "4/5"},
    },
    "adr": True,
    "dr": 1,
    "fCnt": 10,
    "fPort": 5,
    "data": "FQJk",
    "objectJSON": '{"temperature":25,"humidity":32}',
    "tags": {"key": "value"},
    "confirmedUplink": False,
    "devAddr": "AYfSaw==",
    "publishedAt": "2025-05-25T13:42:11.5Z",
}


def decode(key: str, document) -> tuple:
    decoded = decoders.get(key).decode(envelope(json.dumps(document).encode()))
    return decoded.messages, decoded.refusals


def uplink(document, key: str = "ttn", authority: Authority | None = None):
    return pipeline.ingest(envelope(json.dumps(document).encode(), authority), key)


@pytest.fixture
def lora_node(world) -> Node:
    """A node of org A named by its DevEUI, whose model reads frames with the test codec."""
    model = f.NodeModelFactory(organization=world.org_a, codec=BytesCodec.key)
    return f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)


@pytest.fixture
def formatted_node(world) -> Node:
    """A node of org A named by its DevEUI whose model has no codec: the network server
    decodes its frames (a payload formatter)."""
    model = f.NodeModelFactory(organization=world.org_a)
    return f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)


# --- decoders -------------------------------------------------------------------------


def test_ttn_uplink_becomes_one_message_with_radio_metadata():
    document = ttn_uplink({"temperature_1": 21.5, "relative_humidity_2": 40.5})
    messages, refusals = decode("ttn", document)
    assert refusals == ()
    radio = (
        Radio("gw-rooftop", -68.0, 9.2, 868_100_000, 9, 1834, TS, gateway_position=(47.0, 8.0)),
        Radio("gw-cellar", -117.5, -7.25, 868_100_000, 9, 1834, TS),  # channel_rssi
    )
    assert messages == (
        Message(
            0,
            "70b3d57ed005b89a",  # a DevEUI has one spelling: lower-case hex
            TS,
            (("temperature", 21.5), ("humidity", 40.5)),
            messages[0].raw,
            also=("eui-70b3d57ed005b89a",),
            frame=FramePayload(2, FRAME),
            radio=radio,
        ),
    )
    assert json.loads(messages[0].raw) == document


def test_ttn_without_dev_eui_is_known_by_its_device_id():
    document = ttn_uplink(dev_eui="")
    del document["end_device_ids"]["dev_eui"]
    (message,), _ = decode("ttn", document)
    assert (message.device, message.also) == ("eui-70b3d57ed005b89a", ())
    assert message.values == () and message.frame == FramePayload(2, FRAME)


def test_ttn_packet_broker_receptions_name_the_forwarding_gateway():
    document = ttn_uplink()
    document["uplink_message"]["rx_metadata"] = [
        {
            "gateway_ids": {"gateway_id": "packetbroker"},
            "packet_broker": {
                "forwarder_net_id": "000013",
                "forwarder_gateway_eui": "AA555A0000000303",
                "forwarder_gateway_id": "eui-aa555a0000000303",
            },
            "rssi": -90,
            "snr": 2.5,
        }
    ]
    (message,), _ = decode("ttn", document)
    assert [r.gateway for r in message.radio] == ["eui-aa555a0000000303"]


def test_ttn_messages_other_than_uplinks_are_skipped():
    join_accept = {
        "end_device_ids": {"device_id": "dev1", "dev_eui": DEV_EUI},
        "received_at": "2025-05-25T13:42:11.412Z",
        "join_accept": {"session_key_id": "AXBSH1Pk6Z0G166RlH16CQ=="},
    }
    assert decode("ttn", join_accept) == ((), ())


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda d: d.pop("end_device_ids"), '"end_device_ids" must be an object'),
        (lambda d: d.update(received_at="yesterday"), '"received_at"'),
    ],
)
def test_ttn_unreadable_uplinks_are_refused_as_malformed(change, detail):
    document = ttn_uplink()
    change(document)
    messages, (refusal,) = decode("ttn", document)
    assert messages == ()
    assert refusal.reason == "malformed" and detail in refusal.detail


def test_chirpstack_v4_up_event_becomes_one_message():
    (message,), refusals = decode("chirpstack", CHIRPSTACK_V4_UP)
    assert refusals == ()
    ts = datetime(2025, 5, 25, 13, 42, 11, 412345, tzinfo=UTC)
    assert message == Message(
        0,
        "0101010101010101",
        ts,
        (("temperature", 21.5), ("humidity", 40), ("counter", 7)),
        message.raw,
        also=("garden-sensor",),
        frame=FramePayload(1, bytes([0x15, 0x02, 0x64])),
        radio=(
            Radio(
                "0016c001f153a14c",
                -36.0,
                10.5,
                867_100_000,
                7,
                10,
                ts,
                gateway_position=(52.3, 4.9),
            ),
        ),
    )


def test_chirpstack_v4_dev_eui_is_read_in_lower_case():
    event = json.loads(json.dumps(CHIRPSTACK_V4_UP))
    event["deviceInfo"]["devEui"] = DEV_EUI
    (message,), _ = decode("chirpstack", event)
    assert (message.device, message.also) == ("70b3d57ed005b89a", ("garden-sensor",))


def test_chirpstack_v4_without_device_info_is_malformed():
    messages, (refusal,) = decode("chirpstack", {"time": "2025-05-25T13:42:11Z", "fCnt": 1})
    assert messages == () and '"deviceInfo"' in refusal.detail


def test_chirpstack_v3_legacy_marshaler():
    (message,), refusals = decode("chirpstack_v3", CHIRPSTACK_V3_LEGACY)
    assert refusals == ()
    ts = datetime(2025, 5, 25, 13, 42, 11, 295915, tzinfo=UTC)  # the gateway's time
    assert (message.device, message.also) == ("0202020202020202", ("garden-sensor",))
    assert message.ts == ts
    # Nested channel objects are flattened, but "1" names no quantity.
    assert message.values == (("temperature", 25), ("humiditysensor", 32), ("1", 25))
    assert message.frame == FramePayload(5, bytes([0x15, 0x02, 0x64]))
    # EU868 DR5 is SF7.
    gateway_position = (52.3740364, 4.9144401)
    assert message.radio == (
        Radio("0303030303030303", -57.0, 10.0, 868_100_000, 7, 10, ts, gateway_position),
    )


def test_chirpstack_v3_json_marshaler_with_base64_euis():
    (message,), refusals = decode("chirpstack_v3", CHIRPSTACK_V3_JSON)
    assert refusals == ()
    ts = datetime(2025, 5, 25, 13, 42, 11, 500000, tzinfo=UTC)  # publishedAt
    assert (message.device, message.ts) == ("0202020202020202", ts)
    assert message.values == (("temperature", 25), ("humidity", 32))
    assert message.radio == (Radio("0303030303030303", -48.0, 9.0, 868_100_000, 11, 10, ts),)


def test_chirpstack_v3_data_rate_in_the_us915_band_gives_no_spreading_factor():
    event = json.loads(json.dumps(CHIRPSTACK_V3_LEGACY))
    event["txInfo"] = {"frequency": 902_300_000, "dr": 0}
    (message,), _ = decode("chirpstack_v3", event)
    assert message.radio[0].spreading_factor is None


def test_chirpstack_v3_dev_eui_that_is_not_an_eui_is_malformed():
    event = dict(CHIRPSTACK_V3_LEGACY, devEUI="AgIC")
    messages, (refusal,) = decode("chirpstack_v3", event)
    assert messages == () and '"devEUI"' in refusal.detail


@pytest.mark.parametrize(
    ("decoded", "values"),
    [
        # Cayenne LPP names with channels, one level of nesting (GPS)
        (
            {
                "temperature_1": 21.5,
                "relative_humidity_2": 40,
                "barometric_pressure_3": 1013.2,
                "luminosity_4": 300,
                "gps_5": {"latitude": 52.5, "longitude": 13.4, "altitude": 34},
            },
            [
                ("latitude", 52.5),
                ("longitude", 13.4),
                ("altitude", 34),
                ("temperature", 21.5),
                ("humidity", 40),
                ("pressure", 1013.2),
                ("illuminance", 300),
            ],
        ),
        # Dragino style names, numeric strings, booleans; text, lists, deep objects skipped
        (
            {
                "BatV": 3.05,
                "TempC_SHT": "21.50",
                "Hum_SHT": "45.1",
                "motion": True,
                "Ext_sensor": "Temperature Sensor",
                "bytes": [1, 2],
                "deep": {"deeper": {"co2": 1}},
            },
            [("battery", 3.05), ("temperature", 21.5), ("humidity", 45.1), ("motion", 1)],
        ),
        # like the cayenne_lpp codec: the lowest channel gets the plain key
        (
            {"relative_humidity_7": 50, "temperature_5": 20, "temperature_1": 19, "pm2_5": 8},
            [("pm2_5", 8), ("temperature", 19), ("temperature_5", 20), ("humidity", 50)],
        ),
        # a plain name comes before channels, top level before nested
        (
            {"sensor": {"temperature": 30}, "temperature_1": 19, "temperature": 18},
            [("temperature", 18), ("temperature_1", 19)],
        ),
        ("not an object", []),
    ],
)
def test_formatter_output_maps_to_quantities(decoded, values):
    assert list(lorawan.formatter_values(decoded)) == values


# --- pipeline -------------------------------------------------------------------------


def test_decoded_payload_is_stored_with_the_receptions(formatted_node):
    outcome = uplink(ttn_uplink({"temperature_1": 21.5, "relative_humidity_2": 40.5}))
    assert (outcome.accepted, outcome.rejected) == (2, [])
    stored = {(s.quantity.key, s.ts, s.value) for s in Sample.objects.select_related("quantity")}
    assert stored == {("temperature", TS, 21.5), ("humidity", TS, 40.5)}
    receptions = Reception.objects.filter(node=formatted_node).order_by("gateway_id")
    assert [
        (r.gateway_id, r.ts, r.rssi, r.snr, r.frequency, r.spreading_factor, r.frame_counter)
        for r in receptions
    ] == [
        ("gw-cellar", TS, -117.5, -7.25, 868_100_000, 9, 1834),
        ("gw-rooftop", TS, -68.0, 9.2, 868_100_000, 9, 1834),
    ]
    assert not DeadLetter.objects.exists()
    assert Node.objects.get(pk=formatted_node.pk).last_seen is not None


@pytest.mark.parametrize("device_id", [DEV_EUI.lower(), "eui-70b3d57ed005b89a"])
def test_a_node_is_found_by_lower_case_dev_eui_or_by_device_id(world, device_id):
    node = f.NodeFactory(organization=world.org_a, device_id=device_id)
    outcome = uplink(ttn_uplink({"temperature_1": 21.5}))
    assert outcome.accepted == 1
    assert Sample.objects.get().node_id == node.pk
    assert Reception.objects.filter(node=node).count() == 2


def test_a_frame_without_decoded_payload_is_read_by_the_node_models_codec(lora_node):
    outcome = uplink(ttn_uplink(decoded=None))
    assert outcome.accepted == 2
    stored = {s.quantity.key: s.value for s in Sample.objects.select_related("quantity")}
    assert stored == {"temperature": 21.0, "co2": 612.0}


def test_a_decoded_payload_without_any_quantity_falls_back_to_the_codec(lora_node):
    outcome = uplink(ttn_uplink({"bytes": [21, 2, 100], "status": "ok"}))
    assert outcome.accepted == 2


def test_chirpstack_frame_is_read_by_the_codec_too(world):
    model = f.NodeModelFactory(organization=world.org_a, codec=BytesCodec.key)
    node = f.NodeFactory(organization=world.org_a, device_id="0101010101010101", model=model)
    event = dict(CHIRPSTACK_V4_UP, object=None)
    outcome = uplink(event, "chirpstack")
    assert outcome.accepted == 2  # FQJk: 21 °C, 612 ppm
    assert Reception.objects.get(node=node).gateway_id == "0016c001f153a14c"


def test_a_truncated_frame_is_a_dead_letter_naming_the_byte(lora_node):
    outcome = uplink(ttn_uplink(decoded=None, frame=bytes([21, 2])))
    assert outcome.accepted == 0
    assert [r.reason for r in outcome.rejected] == ["malformed"]
    letter = DeadLetter.objects.get()
    assert letter.reason == "malformed" and letter.node_id == lora_node.pk
    assert "byte 2: frame ends before co2" in letter.detail
    assert "test_lorawan_bytes" in letter.detail and "port 2" in letter.detail
    assert json.loads(bytes(letter.payload))["end_device_ids"]["dev_eui"] == DEV_EUI
    assert not Sample.objects.exists()
    assert Reception.objects.count() == 2  # the gateways did hear the node


@pytest.mark.parametrize("model", ["none", "without codec"])
def test_a_frame_of_a_node_without_codec_is_a_dead_letter(world, model):
    node_model = None if model == "none" else f.NodeModelFactory(organization=world.org_a)
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=node_model)
    outcome = uplink(ttn_uplink(decoded=None))
    assert outcome.accepted == 0
    letter = DeadLetter.objects.get()
    assert letter.reason == "malformed"
    assert "the node model has no codec" in letter.detail


def test_an_unknown_codec_is_a_dead_letter_naming_it(world):
    model = f.NodeModelFactory(organization=world.org_a, codec="no_such_codec")
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    uplink(ttn_uplink(decoded=None))
    letter = DeadLetter.objects.get()
    assert letter.reason == "malformed" and "'no_such_codec' is not known" in letter.detail


def test_changing_the_models_codec_takes_effect_at_once(world):
    model = f.NodeModelFactory(organization=world.org_a)
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    assert uplink(ttn_uplink(decoded=None)).accepted == 0
    model.codec = BytesCodec.key
    model.save()
    assert uplink(ttn_uplink(decoded=None)).accepted == 2


def test_a_dead_letter_of_a_frame_is_stored_by_replay_once_the_codec_is_set(world):
    model = f.NodeModelFactory(organization=world.org_a)
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    uplink(ttn_uplink(decoded=None), authority=Authority(world.org_a.pk))
    letter = DeadLetter.objects.get()
    model.codec = BytesCodec.key
    model.save()
    result = replay(letter)
    assert (result.stored, result.accepted) == (True, 2)
    assert Sample.objects.count() == 2 and Reception.objects.count() == 2


def test_a_repeated_uplink_adds_no_samples_and_no_receptions(formatted_node):
    document = ttn_uplink({"temperature_1": 21.5})
    first, second = uplink(document), uplink(document)
    assert (first.accepted, first.duplicates) == (1, 0)
    assert (second.accepted, second.duplicates) == (0, 1)
    assert Sample.objects.count() == 1
    assert Reception.objects.count() == 2


def test_a_repeated_uplink_in_one_batch_adds_no_receptions(formatted_node):
    payload = json.dumps(ttn_uplink({"temperature_1": 21.5})).encode()
    pipeline.ingest_many([envelope(payload), envelope(payload)], "ttn")
    assert Reception.objects.count() == 2


def test_an_uplink_of_an_unknown_dev_eui_is_a_dead_letter(world):
    outcome = uplink(ttn_uplink({"temperature_1": 21.5}))
    assert [r.reason for r in outcome.rejected] == ["unknown-device"]
    letter = DeadLetter.objects.get()
    assert letter.device_id == DEV_EUI.lower()
    assert letter.detail == "no node has device id '70b3d57ed005b89a' or 'eui-70b3d57ed005b89a'"
    assert not Reception.objects.exists()


def test_decoded_fields_naming_no_quantity_and_no_frame_are_a_dead_letter(lora_node):
    outcome = uplink(ttn_uplink({"counter": 7, "status": 1}, frame=None))
    assert [r.reason for r in outcome.rejected] == ["unknown-quantity"]
    assert DeadLetter.objects.get().detail == (
        "'counter' is not a known quantity; 'status' is not a known quantity"
    )
    assert Reception.objects.count() == 2  # the radio data of the uplink is good


def test_an_empty_uplink_stores_its_receptions_only(lora_node):
    outcome = uplink(ttn_uplink(decoded=None, frame=None))
    assert (outcome.accepted, outcome.rejected) == (0, [])
    assert Reception.objects.count() == 2 and not DeadLetter.objects.exists()


def test_another_organizations_node_is_unknown_to_the_sender(world, lora_node):
    outcome = uplink(ttn_uplink({"temperature_1": 21.5}), authority=Authority(world.org_b.pk))
    assert [r.reason for r in outcome.rejected] == ["unknown-device"]
    assert not Sample.objects.exists() and not Reception.objects.exists()
    letter = DeadLetter.objects.get()  # the sender's, not the node's organization's
    assert (letter.organization_id, letter.node_id) == (world.org_b.pk, None)


# --- webhooks -------------------------------------------------------------------------


@pytest.fixture
def network_server(world) -> APIClient:
    """A client posting with org A's ingest key, as a network server's webhook does."""
    holder = IngestKey(organization=world.org_a, name="network server")
    key = holder.issue()
    holder.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def post(client, path, document):
    return client.post(path, data=json.dumps(document), content_type="application/json")


def test_ttn_webhook_stores_the_uplink(network_server, formatted_node):
    response = post(network_server, "/api/v1/ingest/ttn/", ttn_uplink({"temperature_1": 21.5}))
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert Reception.objects.count() == 2


def test_chirpstack_webhook_stores_up_events_with_or_without_the_parameter(network_server, world):
    f.NodeFactory(organization=world.org_a, device_id="0101010101010101")
    for path in ("/api/v1/ingest/chirpstack/?event=up", "/api/v1/ingest/chirpstack/"):
        response = post(network_server, path, CHIRPSTACK_V4_UP)
        assert response.status_code == 200, response.content
        [rejection] = response.json()["rejected"]
        assert rejection["detail"] == "'counter' is not a known quantity"
    assert Sample.objects.count() == 2  # temperature, humidity; counter is no quantity
    assert Reception.objects.count() == 1
    letter = DeadLetter.objects.get()  # "counter" is kept by name, once (counted twice)
    assert (letter.reason, letter.count) == ("unknown-quantity", 2)


@pytest.mark.parametrize(
    ("decoder", "event"),
    [(d, e) for d in ("chirpstack", "chirpstack_v3") for e in ("join", "status", "txack", "log")],
)
def test_chirpstack_events_other_than_up_are_204_and_store_nothing(
    network_server, world, decoder, event
):
    response = post(network_server, f"/api/v1/ingest/{decoder}/?event={event}", {"any": 1})
    assert response.status_code == 204
    assert not DeadLetter.objects.exists() and not Sample.objects.exists()


def test_webhook_dead_letters_are_marked_lorawan(network_server):
    response = post(network_server, "/api/v1/ingest/ttn/", ttn_uplink({"temperature_1": 1}))
    assert response.json()["rejected"][0]["reason"] == "unknown-device"
    letter = DeadLetter.objects.get()
    assert (letter.source, letter.decoder) == ("lorawan", "ttn")
    assert letter.topic == "/api/v1/ingest/ttn/"


def test_webhooks_need_a_credential(world):
    response = post(APIClient(), "/api/v1/ingest/chirpstack/?event=join", CHIRPSTACK_V4_UP)
    assert response.status_code == 401


# --- DevEUI squatting (issue 16, item 4) ----------------------------------------------


@pytest.fixture
def squatter(world, lora_node) -> Node:
    """Org A registered its DevEUI in lower case; org B registers it in upper case."""
    Node.objects.filter(pk=lora_node.pk).update(device_id=DEV_EUI.lower())
    return Node.objects.create(organization=world.org_b, device_id=DEV_EUI.upper())


def test_a_dev_eui_is_stored_in_lower_case(lora_node, squatter):
    assert Node.objects.get(pk=lora_node.pk).device_id == DEV_EUI.lower()
    assert Node.objects.get(pk=squatter.pk).device_id == DEV_EUI.lower()


def test_another_organizations_dev_eui_does_not_block_the_owners_webhook(
    network_server, lora_node, squatter
):
    response = post(network_server, "/api/v1/ingest/ttn/", ttn_uplink({"temperature_1": 21.5}))
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 2  # its model's codec: temperature and co2
    assert {s.node_id for s in Sample.objects.all()} == {lora_node.pk}
    assert not Reception.objects.filter(node=squatter).exists()
    assert not DeadLetter.objects.exists()


def test_another_organizations_dev_eui_does_not_capture_the_owners_uplinks(
    world, lora_node, squatter
):
    for case in (DEV_EUI.upper(), DEV_EUI.lower()):
        document = ttn_uplink({"temperature_1": 21.5})
        document["end_device_ids"]["dev_eui"] = case
        uplink(document, authority=Authority(world.org_a.pk, None, "mqtt-route", 1))
    assert {s.node_id for s in Sample.objects.all()} == {lora_node.pk}
    assert not Sample.objects.filter(node=squatter).exists()


def test_the_squatters_own_credential_writes_only_into_its_own_node(world, lora_node, squatter):
    outcome = uplink(ttn_uplink({"temperature_1": 21.5}), authority=Authority(world.org_b.pk))
    assert outcome.accepted == 1
    assert Sample.objects.get().node_id == squatter.pk  # nothing of A's is touched


def test_an_unbound_route_refuses_a_dev_eui_of_two_organizations_as_ambiguous(
    world, lora_node, squatter
):
    outcome = uplink(ttn_uplink({"temperature_1": 21.5}))  # no credential: an unbound route
    assert [r.reason for r in outcome.rejected] == ["ambiguous-device"]
    assert not Sample.objects.exists() and not Reception.objects.exists()
    letter = DeadLetter.objects.get()
    assert (letter.organization_id, letter.node_id) == (None, None)  # neither org sees it
    assert "2 organizations" in letter.detail
