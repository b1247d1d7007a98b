"""The vehicle decoder: fields, devices and timestamps; then through the pipeline."""

import contextlib
import copy
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorgrid.ingest import decoders, pipeline
from sensorgrid.ingest.envelope import Decoded, DecodeError, Envelope, Message
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import envelope, hours_ago

WHEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def document(device="bus-17", **fields) -> dict:
    body = {
        "device_id": device,
        "timestamp": "2026-11-23T08:00:00Z",
        "speed": 42.5,
        "location": {"lat": 48.137, "lon": 11.575, "alt": 519, "heading": 270},
        "telemetry": {"battery": 12.6, "battery_level": 87},
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def mqtt(payload: object, device: str = "", **kwargs) -> Envelope:
    """An envelope from the topic device/data/<device> (or an HTTP one when device is "")."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if device:
        kwargs.update(source="mqtt", topic=f"device/data/{device}")
    return replace(envelope(body, **kwargs), device=device)


def decode(payload: object, device: str = "", **kwargs) -> Decoded:
    return decoders.get("vehicle").decode(mqtt(payload, device, **kwargs))


def raw(doc: object) -> bytes:
    """What a refusal keeps of a payload that is one document: the payload."""
    return json.dumps(doc).encode()


def values_of(doc: dict, device: str = "") -> tuple:
    (message,) = decode(doc, device).messages
    return message.values


def refusal_of(doc: object, device: str = "") -> tuple[str, str, str]:
    decoded = decode(doc, device)
    assert not decoded.messages
    (refusal,) = decoded.refusals
    return refusal.reason, refusal.detail, refusal.device


# --- decoding ---------------------------------------------------------------------


def test_it_reads_a_full_document():
    doc = document(telemetry={"battery": 12.6, "batteryLevel": 87, "odometer": 120345.2})
    payload = raw(doc)
    values = (
        ("speed", 42.5),
        ("latitude", 48.137),
        ("longitude", 11.575),
        ("altitude", 519),
        ("heading", 270),
        ("battery", 12.6),
        ("battery_level", 87),
        ("odometer", 120345.2),
    )
    assert decode(payload) == Decoded((Message(0, "bus-17", WHEN, values, payload),))


def test_speed_alone_is_enough():
    (message,) = decode({"device_id": "bus-17", "speed": 0}).messages
    assert (message.values, message.ts) == ((("speed", 0),), None)  # None: time of receipt


@pytest.mark.parametrize("speed", [None, "missing"])
def test_speed_is_required(speed):
    doc = document(speed=speed)
    if speed == "missing":
        doc.pop("speed")
    assert refusal_of(doc) == ("malformed", '"speed" (km/h) is required', "bus-17")


@pytest.mark.parametrize(
    "timestamp", ["2026-11-23T08:00:00Z", "2026-11-23T09:00:00+01:00", 1795420800, 1795420800000]
)
def test_the_timestamp_is_iso_8601_or_epoch_seconds_or_milliseconds(timestamp):
    assert decode(document(timestamp=timestamp)).messages[0].ts == WHEN


def test_an_unreadable_timestamp_is_refused():
    detail = "\"timestamp\": 'noon' is not ISO 8601 or an epoch number"
    assert refusal_of(document(timestamp="noon")) == ("bad-timestamp", detail, "bus-17")


@pytest.mark.parametrize(
    "location",
    [
        {"lat": 48.1, "lng": 11.5},
        {"latitude": 48.1, "longitude": 11.5},
        {"lat": 48.1, "lon": 11.5, "lng": 11.5},  # both spellings, agreeing
    ],
)
def test_location_names(location):
    assert values_of(document(location=location, telemetry=None)) == (
        ("speed", 42.5),
        ("latitude", 48.1),
        ("longitude", 11.5),
    )


@pytest.mark.parametrize(
    ("location", "detail"),
    [
        ({"lat": 48.1}, '"location" needs both "lat" and "lon" (or "lng")'),
        ({"lon": 11.5, "alt": 500}, '"location" needs both "lat" and "lon" (or "lng")'),
        ({"lat": 48.1, "lon": None}, '"location" needs both "lat" and "lon" (or "lng")'),
        ({}, '"location" needs both "lat" and "lon" (or "lng")'),
        ([48.1, 11.5], '"location" must be an object, got list'),
        ({"lat": 48.1, "lon": 11.5, "lng": 11.6}, '"location": "lon" and "lng" disagree'),
    ],
)
def test_a_location_without_lat_and_lon_is_refused(location, detail):
    assert refusal_of(document(location=location)) == ("malformed", detail, "bus-17")


def test_telemetry_must_be_an_object():
    detail = '"telemetry" must be an object, got str'
    assert refusal_of(document(telemetry="12.6 V")) == ("malformed", detail, "bus-17")


def test_other_fields_are_passed_on_under_normalized_names():
    doc = document(
        location={"lat": 48.1, "lon": 11.5, "accuracy": 4},
        telemetry={"fuelLevel": 55, "engine temperature": 88, "RPM": 2100, "ignition": True},
        tripId="t-9",
    )
    assert values_of(doc) == (
        ("speed", 42.5),
        ("latitude", 48.1),
        ("longitude", 11.5),
        ("accuracy", 4),
        ("fuel_level", 55),
        ("engine_temperature", 88),
        ("rpm", 2100),
        ("ignition", True),
        ("trip_id", "t-9"),
    )


def test_a_repeated_quantity_with_another_value_is_renamed_not_lost():
    doc = document(telemetry={"heading": 270, "speed": 40, "Speed": 41, "battery": True})
    assert values_of(doc)[4:] == (
        ("heading", 270),  # telemetry.heading said the same: given once
        ("telemetry_speed", 40),
        ("telemetry_speed_2", 41),
        ("battery", True),
    )
    same_number = document(location={"lat": 1, "lon": 2}, telemetry={"latitude": 1.0})
    assert values_of(same_number) == (("speed", 42.5), ("latitude", 1), ("longitude", 2))


@pytest.mark.parametrize(
    ("device_id", "topic_device", "expected"),
    [
        ("bus-17", "", "bus-17"),
        ("bus-17", "bus-17", "bus-17"),
        (None, "bus-17", "bus-17"),  # the topic names the device
        (358000000000017, "", "358000000000017"),  # an IMEI as a number
    ],
)
def test_the_device_is_device_id_or_the_topic_device(device_id, topic_device, expected):
    assert decode(document(device_id), topic_device).messages[0].device == expected


@pytest.mark.parametrize(
    ("device_id", "topic_device", "expected"),
    [
        (
            "bus-17",
            "bus-18",
            (
                "forbidden-device",
                "the payload names device 'bus-17' on the topic of 'bus-18'",
                "bus-18",
            ),
        ),
        (None, "", ("malformed", '"device_id" is required (the topic names no device)', "")),
        ("", "", ("malformed", '"device_id" must be a non-empty string or an integer', "")),
        (True, "", ("malformed", '"device_id" must be a non-empty string or an integer', "")),
    ],
)
def test_a_wrong_or_missing_device_is_refused(device_id, topic_device, expected):
    assert refusal_of(document(device_id), topic_device) == expected


def test_lists_and_ndjson_are_read_document_by_document():
    docs = [document("bus-1"), "not an object", document("bus-2", speed=None)]
    decoded = decode(docs)
    assert [(m.index, m.device) for m in decoded.messages] == [(0, "bus-1")]
    assert [(r.index, r.reason, r.detail, r.raw) for r in decoded.refusals] == [
        (1, "malformed", "expected a JSON object, got str", "not an object"),
        (2, "malformed", '"speed" (km/h) is required', docs[2]),
    ]
    lines = [raw(document(f"bus-{n}")) for n in (1, 2)]
    decoded = decode(b"\n".join(lines), content_type="application/x-ndjson")
    assert [(m.device, m.raw) for m in decoded.messages] == [
        ("bus-1", lines[0]),
        ("bus-2", lines[1]),
    ]


def test_a_payload_that_is_not_json_is_refused_whole():
    with pytest.raises(DecodeError) as caught:
        decode(b"speed=42")
    assert caught.value.reason == "malformed"


# --- through the pipeline ---------------------------------------------------------


def stored(node) -> list[tuple[str, float]]:
    rows = Sample.objects.filter(node=node).order_by("quantity__key")
    return [(row.quantity.key, row.value) for row in rows]


def test_vehicle_telemetry_is_stored_as_samples(world):
    device = world.node_a.device_id
    doc = document(
        None,
        timestamp=hours_ago(1).isoformat(),
        telemetry={"battery": 12.6, "batteryLevel": 87, "heading": 270, "odometer": 120345.2},
    )
    outcome = pipeline.ingest(mqtt(doc, device), "vehicle")
    assert outcome.accepted == 7
    assert stored(world.node_a) == [
        ("altitude", 519),
        ("battery", 12.6),
        ("battery_level", 87),
        ("heading", 270),
        ("latitude", 48.137),
        ("longitude", 11.575),
        ("speed", 42.5),
    ]
    assert {row.ts for row in Sample.objects.all()} == {hours_ago(1)}
    assert [(r.reason, r.detail) for r in outcome.rejected] == [
        ("unknown-quantity", "'odometer' is not a known quantity")
    ]
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.decoder, letter.node_id) == (
        "unknown-quantity",
        "vehicle",
        world.node_a.pk,
    )


def test_a_vehicle_on_another_devices_topic_stores_nothing(world):
    doc = document(world.node_a.device_id, timestamp=hours_ago(1).isoformat())
    outcome = pipeline.ingest(mqtt(doc, world.public_node.device_id), "vehicle")
    assert [r.reason for r in outcome.rejected] == ["forbidden-device"]
    assert not Sample.objects.exists()
    assert DeadLetter.objects.get().reason == "forbidden-device"


def test_implausible_vehicle_values_are_kept_as_dead_letters(world):
    doc = document(
        world.node_a.device_id,
        timestamp=hours_ago(1).isoformat(),
        speed=900,
        location={"lat": 91, "lon": 11.5},
        telemetry=None,
    )
    outcome = pipeline.ingest(mqtt(doc), "vehicle")
    assert outcome.accepted == 1  # longitude
    (rejection,) = outcome.rejected
    assert rejection.reason == "out-of-range"
    assert "speed: 900" in rejection.detail and "latitude: 91" in rejection.detail


# --- never anything but Decoded or DecodeError ----------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_DROP = object()


@st.composite
def mutated_documents(draw) -> object:
    """A valid document with up to three fields dropped or replaced by any JSON value."""
    doc = copy.deepcopy(document(telemetry={"heading": 90, "odometer": 5}))
    fields = [(doc, key) for key in ("device_id", "timestamp", "speed", "location", "telemetry")]
    fields += [(doc["location"], key) for key in ("lat", "lon", "alt", "heading")]
    fields += [(doc["telemetry"], key) for key in ("heading", "odometer")]
    for number in draw(st.lists(st.integers(0, len(fields) - 1), max_size=3, unique=True)):
        container, key = fields[number]
        change = draw(st.just(_DROP) | json_values)
        if change is _DROP:
            container.pop(key, None)
        else:
            container[key] = change
    if draw(st.booleans()):
        doc[draw(st.text(max_size=10))] = draw(json_values)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents=st.lists(mutated_documents() | json_values, min_size=1, max_size=3),
    as_ndjson=st.booleans(),
    device=st.sampled_from(["", "bus-17", "other"]),
)
def test_decoding_returns_decoded_or_raises_decode_error(documents, as_ndjson, device):
    if as_ndjson:
        payload = "\n".join(json.dumps(d) for d in documents).encode()
    else:
        payload = json.dumps(documents if len(documents) > 1 else documents[0]).encode()
    try:
        decoded = decode(payload, device)
    except DecodeError:
        return
    assert isinstance(decoded, Decoded)
    for message in decoded.messages:
        assert message.device and (not device or message.device == device)
        keys = [key for key, _ in message.values]
        assert keys[0] == "speed" and len(keys) == len(set(keys))


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=200))
def test_decoding_bytes_returns_decoded_or_raises_decode_error(payload):
    with contextlib.suppress(DecodeError):
        assert isinstance(decode(payload), Decoded)
