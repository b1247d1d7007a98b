"""The KPI decoder: schema, unit table, devices and timestamps; then through the pipeline."""

import contextlib
import copy
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sensorgrid.ingest import decoders, pipeline
from sensorgrid.ingest.decoders import kpi
from sensorgrid.ingest.envelope import Decoded, DecodeError, Envelope, Message, Refusal
from sensorgrid.inventory.quantities import SEED
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import envelope, hours_ago

WHEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WHEN_MS = int(WHEN.timestamp() * 1000)


def document(client="temp-pub01", *kpis, **fields) -> dict:
    """A KPI document; kpis as (name, unitId, value) tuples."""
    body = {"clientId": client, "unixTimestamp": WHEN_MS, "timestamp": "2026-11-23T08:00:00.000Z"}
    body["kpis"] = [{"name": n, "unitId": u, "value": v} for n, u, v in kpis or [("t", 1, 21.5)]]
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def mqtt(payload: object, device: str = "", **kwargs) -> Envelope:
    """An envelope from the topic kpi/<device>/state (or /kpi/… when device is "")."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    topic = f"kpi/{device}/state" if device else "/kpi/temperature/client"
    return replace(envelope(body, source="mqtt", topic=topic, **kwargs), device=device)


def decode(payload: object, device: str = "", **kwargs) -> Decoded:
    return decoders.get("kpi").decode(mqtt(payload, device, **kwargs))


def raw(doc: object) -> bytes:
    """What a refusal keeps of a payload that is one document: the payload."""
    return json.dumps(doc).encode()


def values_of(*kpis) -> tuple:
    (message,) = decode(document("temp-pub01", *kpis)).messages
    return message.values


# --- decoding ---------------------------------------------------------------------


def test_it_reads_a_message_of_the_published_schema():
    # The KPI Collection Project's own example: a 10-character client id, unit 1 (°C).
    body = {
        "clientId": "temp-pub01",
        "unixTimestamp": WHEN_MS,
        "timestamp": "2026-11-23T08:00:00.000Z",
        "kpis": [{"name": "engineTemp", "unitId": 1, "value": 45.37}],
    }
    payload = json.dumps(body).encode()
    assert decode(payload) == Decoded(
        (Message(0, "temp-pub01", WHEN, (("temperature", 45.37),), payload),)
    )


def test_unix_timestamp_is_preferred_over_the_iso_timestamp():
    doc = document(timestamp="2020-01-01T00:00:00Z")
    assert decode(doc).messages[0].ts == WHEN


def test_unix_timestamp_is_milliseconds_even_when_small():
    # A device that sends seconds lands in 1970, and the pipeline refuses that.
    doc = document(unixTimestamp=1_763_884_800)
    assert decode(doc).messages[0].ts == datetime(1970, 1, 21, 9, 58, 4, 800000, tzinfo=UTC)


def test_the_iso_timestamp_is_used_without_a_unix_timestamp():
    doc = document(unixTimestamp=None, timestamp="2026-11-23T09:00:00.000+01:00")
    assert decode(doc).messages[0].ts == WHEN


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        # JSON integers beyond 64 bits are read as floats (orjson): the detail says 1e+30.
        ({"unixTimestamp": 10**30}, '"unixTimestamp": 1e+30 ms is out of range'),
        (
            {"unixTimestamp": None, "timestamp": "yesterday"},
            "\"timestamp\": 'yesterday' is not ISO 8601 or an epoch number",
        ),
    ],
)
def test_an_unreadable_timestamp_is_refused(fields, detail):
    doc = document(**fields)
    assert decode(doc).refusals == (Refusal(0, "bad-timestamp", detail, raw(doc), "temp-pub01"),)


@pytest.mark.parametrize(
    ("kpi_", "expected"),
    [
        (("co2", 100, 612), ("co2", 612)),
        (("CO2", "ppm", 612), ("co2", 612)),
        (("air quality", "ppm", 612), ("co2", 612)),  # ppm means co2 unless named otherwise
        (("temperature", 1, 21.5), ("temperature", 21.5)),
        (("engineTemp", "°C", 55), ("temperature", 55)),
        (("temp", "℃", 20), ("temperature", 20)),
        (("t", "1", 20), ("temperature", 20)),  # a numeric id as text
        (("t", 2, 293.15), ("temperature", 20.0)),
        (("t", "°F", 212), ("temperature", 100.0)),
        (("humidity", "%RH", 40), ("humidity", 40)),
        (("humidity", "%", 40), ("humidity", 40)),
        (("batteryLevel", "%", 80), ("battery_level", 80)),
        (("battery", "percent", 80), ("battery_level", 80)),
        (("battery", "V", 3.6), ("battery", 3.6)),
        (("vbat", "mV", 3600), ("battery", 3.6)),
        (("pressure", "hPa", 1013), ("pressure", 1013)),
        (("p", 105, 101300), ("pressure", 1013.0)),
        (("PM2.5", "µg/m³", 8), ("pm2_5", 8)),
        (("pm25", "ug/m3", 8), ("pm2_5", 8)),
        (("PM 10", 106, 12), ("pm10", 12)),
        (("PM1.0", 106, 3), ("pm1", 3)),  # not pm10
        (("NO2", 106, 40), ("no2", 40)),
        (("ozone", 106, 60), ("o3", 60)),
        (("noise", "dB(A)", 55), ("noise", 55)),
        (("snr", "dB", 7), ("snr", 7)),
        (("light", "lux", 300), ("illuminance", 300)),
        (("speed", "km/h", 40), ("speed", 40)),
        (("windSpeed", "km/h", 36), ("wind_speed", 10.0)),
        (("wind", "m/s", 3), ("wind_speed", 3)),
        (("velocity", "m/s", 10), ("speed", 36.0)),
        (("heading", "°", 90), ("heading", 90)),
        (("altitude", "m", 519), ("altitude", 519)),
        (("distance", "m", 12), ("distance", 12)),
        (("tvoc", "ppb", 120), ("tvoc", 120)),
        (("rssi", "dBm", -80), ("rssi", -80)),
        (("people", 117, 12), ("occupancy", 12)),
    ],
)
def test_units_and_names_choose_the_quantity(kpi_, expected):
    assert values_of(kpi_) == (expected,)


@pytest.mark.parametrize(
    ("kpi_", "expected"),
    [
        (("weight", 5, 3.5), ("weight", 3.5)),  # a published unit without a quantity
        (("engine RPM", 999, 3000), ("engine_rpm", 3000)),  # an unknown unit id
        (("fuel level", "%", 50), ("fuel_level", 50)),  # % needs a name that chooses
        (("dust", "µg/m³", 5), ("dust", 5)),
        (("height", "m", 2), ("height", 2)),
        # the name is a quantity's but the unit is not that quantity's
        (("co2", 1, 3), ("co2_degc", 3)),
        (("NO2", "ppm", 0.1), ("no2_ppm", 0.1)),
        (("temperature", "furlong", 3), ("temperature_unit_furlong", 3)),
    ],
)
def test_a_kpi_without_a_quantity_is_passed_on_under_its_normalized_name(kpi_, expected):
    assert values_of(kpi_) == (expected,)


def test_a_quantity_is_given_once_per_document():
    assert values_of(("engineTemp", 1, 80), ("oilTemp", 1, 90)) == (
        ("temperature", 80),
        ("oil_temp", 90),
    )
    # a KPI that names the quantity wins over one that got it from its unit
    assert values_of(("engineTemp", 1, 80), ("temperature", 1, 21), ("temperature", 1, 22)) == (
        ("engine_temp", 80),
        ("temperature", 21),
        ("temperature_degc", 22),
    )


@pytest.mark.parametrize(
    ("mutate", "detail"),
    [
        (lambda d: d["kpis"].clear(), "$.kpis: [] should be non-empty"),
        (lambda d: d["kpis"][0].update(value="1"), "$.kpis[0].value: '1' is not of type 'number'"),
        (
            lambda d: d["kpis"][0].update(value=True),
            "$.kpis[0].value: True is not of type 'number'",
        ),
        (lambda d: d["kpis"][0].pop("unitId"), "$.kpis[0]: 'unitId' is a required property"),
        (
            lambda d: d["kpis"][0].update(unitId=1.5),
            "$.kpis[0].unitId: 1.5 is not of type 'integer', 'string'",
        ),
        (
            lambda d: d.update(location="x"),
            "$: Additional properties are not allowed ('location' was unexpected)",
        ),
        (lambda d: d.pop("clientId"), "$: 'clientId' is a required property"),
        (lambda d: d.update(clientId=12), "$.clientId: 12 is not of type 'string'"),
        (
            lambda d: (d.pop("unixTimestamp"), d.pop("timestamp")),
            "$: 'unixTimestamp' (epoch ms) or 'timestamp' (ISO 8601) is required",
        ),
        (
            lambda d: d.update(unixTimestamp=str(WHEN_MS)),
            f"$.unixTimestamp: '{WHEN_MS}' is not of type 'integer'",
        ),
    ],
)
def test_a_document_that_breaks_the_schema_is_refused_with_where_and_why(mutate, detail):
    doc = document()
    mutate(doc)
    client = doc["clientId"] if isinstance(doc.get("clientId"), str) else ""
    assert decode(doc) == Decoded((), (Refusal(0, "malformed", detail, raw(doc), client),))


def test_a_schema_detail_is_kept_short():
    doc = document("x" * 5000)
    (refusal,) = decode(doc).refusals
    assert refusal.detail.startswith("$.clientId: 'xxx") and len(refusal.detail) == 500


def test_a_refused_document_does_not_stop_the_others_in_a_list():
    bad = document("temp-pub02", ("t", 1, "hot"))
    decoded = decode([document(), bad, document("temp-pub03")])
    assert [(m.index, m.device) for m in decoded.messages] == [(0, "temp-pub01"), (2, "temp-pub03")]
    detail = "$.kpis[0].value: 'hot' is not of type 'number'"
    assert decoded.refusals == (Refusal(1, "malformed", detail, bad, "temp-pub02"),)


def test_ndjson_lines_are_documents():
    lines = [json.dumps(document(f"client-{n}")).encode() for n in (1, 2)]
    decoded = decode(b"\n".join(lines), content_type="application/x-ndjson")
    assert [(m.device, m.raw) for m in decoded.messages] == [
        ("client-1", lines[0]),
        ("client-2", lines[1]),
    ]


def test_the_client_id_must_be_the_device_the_topic_names():
    assert decode(document("temp-pub01"), device="temp-pub01").messages[0].device == "temp-pub01"
    doc = document("temp-pub01")
    detail = "the payload names device 'temp-pub01' on the topic of 'temp-pub02'"
    assert decode(doc, device="temp-pub02") == Decoded(
        (), (Refusal(0, "forbidden-device", detail, raw(doc), "temp-pub02"),)
    )


def test_a_payload_that_is_not_json_is_refused_whole():
    with pytest.raises(DecodeError) as caught:
        decode(b"{kpis")
    assert caught.value.reason == "malformed"


def test_the_packaged_schema_is_a_valid_schema():
    Draft202012Validator.check_schema(kpi.SCHEMA)


def test_the_unit_table_names_only_registered_quantities():
    registered = {key for key, *_ in SEED}
    for unit in kpi.UNITS.values():
        assert set(unit.quantities) <= registered
        assert unit.default is None or unit.default in unit.quantities
    assert set(kpi.UNIT_TEXTS.values()) <= set(kpi.UNITS)
    assert set(kpi.NAMES) <= registered


# --- through the pipeline ---------------------------------------------------------


def pipeline_document(world, *kpis, ts=None, **fields) -> dict:
    when = ts or hours_ago(1)
    return document(
        world.node_a.device_id,
        *kpis,
        unixTimestamp=int(when.timestamp() * 1000),
        timestamp=when.isoformat(),
        **fields,
    )


def stored(node) -> list[tuple[str, float]]:
    rows = Sample.objects.filter(node=node).order_by("quantity__key")
    return [(row.quantity.key, row.value) for row in rows]


def test_kpis_are_stored_as_samples(world):
    doc = pipeline_document(world, ("co2", 100, 612), ("t", 2, 294.65), ("rh", "%RH", 41))
    outcome = pipeline.ingest(mqtt(doc, world.node_a.device_id), "kpi")
    assert (outcome.accepted, outcome.rejected, outcome.refused) == (3, [], None)
    assert stored(world.node_a) == [("co2", 612), ("humidity", 41), ("temperature", 21.5)]
    assert {row.ts for row in Sample.objects.all()} == {hours_ago(1)}
    assert not DeadLetter.objects.exists()


def test_an_unknown_kpi_becomes_an_unknown_quantity_dead_letter(world):
    doc = pipeline_document(world, ("co2", "ppm", 612), ("engineRPM", "1/min", 3000))
    outcome = pipeline.ingest(mqtt(doc), "kpi")
    assert outcome.accepted == 1
    assert [(r.reason, r.detail) for r in outcome.rejected] == [
        ("unknown-quantity", "'engine_rpm' is not a known quantity")
    ]
    assert stored(world.node_a) == [("co2", 612)]
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.decoder, letter.node_id) == (
        "unknown-quantity",
        "kpi",
        world.node_a.pk,
    )
    assert json.loads(bytes(letter.payload)) == doc


def test_a_kpi_message_on_the_topic_of_another_device_stores_nothing(world):
    doc = pipeline_document(world, ("co2", 100, 612))
    outcome = pipeline.ingest(mqtt(doc, world.public_node.device_id), "kpi")
    assert [r.reason for r in outcome.rejected] == ["forbidden-device"]
    assert not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.device_id) == ("forbidden-device", world.public_node.device_id)


def test_a_timestamp_in_seconds_is_refused_by_the_pipeline(world):
    doc = pipeline_document(world, ("co2", 100, 612))
    doc["unixTimestamp"] //= 1000
    outcome = pipeline.ingest(mqtt(doc), "kpi")
    assert [r.reason for r in outcome.rejected] == ["bad-timestamp"]
    assert not Sample.objects.exists()


def test_a_list_of_kpi_messages_is_stored_and_bad_ones_kept(world):
    good = pipeline_document(world, ("co2", 100, 612))
    later = pipeline_document(world, ("co2", 100, 640), ts=hours_ago(0.5))
    bad = pipeline_document(world, ("co2", 100, "high"))
    outcome = pipeline.ingest(mqtt([good, bad, later]), "kpi")
    assert outcome.accepted == 2
    assert [(r.index, r.reason) for r in outcome.rejected] == [(1, "malformed")]
    assert sorted(value for _, value in stored(world.node_a)) == [612, 640]
    assert json.loads(bytes(DeadLetter.objects.get().payload)) == bad


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
    doc = copy.deepcopy(
        document("temp-pub01", ("co2", 100, 612), ("PM2.5", "µg/m³", 8), ("rpm", 7, 3))
    )
    fields = [(doc, key) for key in ("clientId", "unixTimestamp", "timestamp", "kpis")]
    fields += [(item, key) for item in doc["kpis"] for key in ("name", "unitId", "value")]
    for number in draw(st.lists(st.integers(0, len(fields) - 1), max_size=3, unique=True)):
        container, key = fields[number]
        change = draw(st.just(_DROP) | json_values)
        if change is _DROP:
            container.pop(key, None)
        else:
            container[key] = change
    if draw(st.booleans()):  # entries may have more fields (the document may not)
        fields[-1][0][draw(st.text(max_size=10))] = draw(json_values)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents=st.lists(mutated_documents() | json_values, min_size=1, max_size=3),
    as_ndjson=st.booleans(),
    device=st.sampled_from(["", "temp-pub01", "other"]),
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
        assert all(isinstance(key, str) and key for key, _ in message.values)


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=200))
def test_decoding_bytes_returns_decoded_or_raises_decode_error(payload):
    with contextlib.suppress(DecodeError):
        assert isinstance(decode(payload), Decoded)


kpi_entries = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["temperature", "engineTemp", "PM2.5", "battery", "co2", "wind"])
        | st.text(min_size=1, max_size=12),
        "unitId": st.sampled_from(sorted(kpi.UNIT_TEXTS))
        | st.integers(0, 200)
        | st.text(min_size=1, max_size=6),
        "value": st.integers() | st.floats(),
    }
)


@settings(max_examples=300, deadline=None)
@given(kpis=st.lists(kpi_entries, min_size=1, max_size=6))
def test_every_kpi_gives_one_value_and_no_quantity_twice(kpis):
    (message,) = decode(document(unixTimestamp=WHEN_MS, kpis=kpis)).messages
    assert len(message.values) == len(kpis)
    registered = [key for key, _ in message.values if key in {key for key, *_ in SEED}]
    assert len(registered) == len(set(registered))
