"""Decoder ``kpi_strict`` (issue 18, item 8): the KPI Collection Project's schema as it is.

The vectors are the project's own: its publishers send a 10-character client id
(``temp-pub01``), both times (JavaScript/Java ISO form, 24 characters), unit ids 1–6
and values with two decimals (the stack stores NUMERIC(5,2)).
"""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft201909Validator

from sensorgrid.ingest import decoders, pipeline
from sensorgrid.ingest.decoders import kpi_strict
from sensorgrid.ingest.envelope import Decoded, DecodeError, Message, Refusal
from sensorgrid.ingest.mqtt import config
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests import factories as f
from tests.ingest.conftest import hours_ago
from tests.ingest.test_decoder_kpi import WHEN, WHEN_MS, document, mqtt, raw

STAMP = "2026-11-23T08:00:00.000Z"


def decode(payload: object, key: str = "kpi_strict", device: str = "") -> Decoded:
    return decoders.get(key).decode(mqtt(payload, device))


def refusal_of(doc: dict, key: str = "kpi_strict") -> tuple[str, str] | None:
    decoded = decode(doc, key)
    if decoded.messages:
        return None
    (refusal,) = decoded.refusals
    return refusal.reason, refusal.detail


def test_the_projects_own_message_is_read_as_the_relaxed_decoder_reads_it():
    body = {
        "clientId": "temp-pub01",
        "unixTimestamp": WHEN_MS,
        "timestamp": STAMP,
        "kpis": [{"name": "engineTemp", "unitId": 1, "value": 45.37}],
    }
    payload = json.dumps(body).encode()
    expected = Decoded((Message(0, "temp-pub01", WHEN, (("temperature", 45.37),), payload),))
    assert decode(payload) == expected == decode(payload, "kpi")


@pytest.mark.parametrize("value", [21.4, 0.07, -3.33, 999.99, 12, 1e3, 1e21])
def test_multiple_of_is_decided_on_the_decimal_number_as_written(value):
    # Float division would refuse 21.4 (21.4 / 0.01 == 2139.9999999999995).
    assert refusal_of(document(kpis=[{"name": "t", "unitId": 1, "value": value}])) is None


# Each breaks exactly one constraint of the reference schema; the relaxed decoder
# accepts every one of them (docs/devices.md lists these relaxations).
RELAXATIONS = [
    (
        lambda d: d.update(clientId="temp-pub1"),
        "$.clientId: 'temp-pub1' is too short",
    ),
    (
        lambda d: d.update(clientId="temp-pub001"),
        "$.clientId: 'temp-pub001' is too long",
    ),
    (lambda d: d.pop("timestamp"), "$: 'timestamp' is a required property"),
    (lambda d: d.pop("unixTimestamp"), "$: 'unixTimestamp' is a required property"),
    (
        lambda d: d.update(timestamp="2026-11-23T08:00:00Z"),
        "$.timestamp: '2026-11-23T08:00:00Z' is too short",
    ),
    (
        lambda d: d["kpis"][0].update(name="n" * 41),
        f"$.kpis[0].name: '{'n' * 41}' is too long",
    ),
    (
        lambda d: d["kpis"][0].update(unitId=100),
        "$.kpis[0].unitId: 100 is not one of [1, 2, 3, 4, 5, 6]",
    ),
    (
        lambda d: d["kpis"][0].update(unitId="°C"),
        "$.kpis[0].unitId: '°C' is not one of [1, 2, 3, 4, 5, 6]",
    ),
    (
        lambda d: d["kpis"][0].update(value=21.405),
        "$.kpis[0].value: 21.405 is not a multiple of 0.01",
    ),
]


@pytest.mark.parametrize(("mutate", "detail"), RELAXATIONS)
def test_the_reference_constraints_refuse_what_the_relaxed_mode_accepts(mutate, detail):
    doc = document()
    mutate(doc)
    assert refusal_of(doc, "kpi") is None
    client = doc["clientId"]
    assert decode(doc) == Decoded((), (Refusal(0, "malformed", detail, raw(doc), client),))


@pytest.mark.parametrize(
    ("mutate", "detail"),
    [
        (
            lambda d: d.update(unixTimestamp=WHEN_MS + 0.5),
            f"$.unixTimestamp: {WHEN_MS + 0.5!r} is not a multiple of 1",
        ),
        (
            lambda d: d.update(location="x"),
            "$: Additional properties are not allowed ('location' was unexpected)",
        ),
        (
            lambda d: d["kpis"][0].update(unitId=True),
            "$.kpis[0].unitId: True is not one of [1, 2, 3, 4, 5, 6]",
        ),
        (lambda d: d["kpis"][0].update(value="1"), "$.kpis[0].value: '1' is not of type 'number'"),
        # What the reference lets through but no value can be read from (its minItems
        # sits inside items, its entries have no required list): the relaxed schema's.
        (lambda d: d["kpis"].clear(), "$.kpis: [] should be non-empty"),
        (lambda d: d["kpis"][0].pop("value"), "$.kpis[0]: 'value' is a required property"),
    ],
)
def test_what_both_modes_refuse_is_refused_with_where_and_why(mutate, detail):
    doc = document()
    mutate(doc)
    assert refusal_of(doc) == ("malformed", detail)


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-23 08:00:00.000Z",
        "2026-02-30T08:00:00.000Z",
        "000000001795420800000000",
        "2026-11-23T08:00:00.0000",
    ],
)
def test_a_timestamp_that_is_not_an_iso_date_time_with_an_offset_is_refused(stamp):
    assert len(stamp) == 24  # the reference schema's length holds
    detail = f'"timestamp": {stamp!r} is not an ISO 8601 date-time with an offset'
    assert refusal_of(document(timestamp=stamp)) == ("bad-timestamp", detail)
    assert refusal_of(document(timestamp=stamp), "kpi") is None  # unixTimestamp wins there


def test_integral_unit_ids_written_as_decimals_are_the_same_id():
    # JSON Schema compares numbers by value: 1.0 is the unit id 1, as in the reference.
    assert refusal_of(document(kpis=[{"name": "t", "unitId": 1.0, "value": 21.5}])) is None


def test_the_packaged_reference_schema_is_a_valid_draft_2019_09_schema():
    Draft201909Validator.check_schema(kpi_strict.REFERENCE)


def test_it_has_no_built_in_topic_and_a_route_chooses_it(db, settings):
    settings.SENSORGRID_MQTT_ROUTES = []
    builtin = config.route_table()
    assert builtin.match("kpi/temp-pub01/air").route.decoder == "kpi"
    settings.SENSORGRID_MQTT_ROUTES = ["kpi/{device}/#=kpi_strict", "/kpi/#=kpi"]
    table = config.route_table()
    assert table.match("kpi/temp-pub01/air").route.decoder == "kpi_strict"
    assert table.match("/kpi/engineTemp/temp-pub01").route.decoder == "kpi"


def test_through_the_pipeline_a_strict_route_stores_good_and_keeps_refused_documents(world):
    node = f.NodeFactory(organization=world.org_a, device_id="temp-pub01")
    when = hours_ago(1)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    good = document(unixTimestamp=int(when.timestamp() * 1000), timestamp=stamp)
    long_name = document(
        kpis=[{"name": "x" * 41, "unitId": 1, "value": 20.5}],
        unixTimestamp=int(when.timestamp() * 1000),
        timestamp=stamp,
    )
    outcome = pipeline.ingest(mqtt([good, long_name], "temp-pub01"), "kpi_strict")
    assert outcome.accepted == 1
    assert [(r.index, r.reason) for r in outcome.rejected] == [(1, "malformed")]
    assert [(s.quantity.key, s.value, s.ts) for s in Sample.objects.filter(node=node)] == [
        ("temperature", 21.5, when)
    ]
    letter = DeadLetter.objects.get()
    assert (letter.decoder, letter.reason, letter.device_id) == (
        "kpi_strict",
        "malformed",
        "temp-pub01",
    )
    assert letter.detail == f"$.kpis[0].name: '{'x' * 41}' is too long"


def test_over_http_a_device_posts_to_the_strict_path(world, client):
    node = f.NodeFactory(organization=world.org_a, device_id="temp-pub01")
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    when = hours_ago(1)
    doc = document(
        unixTimestamp=int(when.timestamp() * 1000),
        timestamp=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"}
    path = "/api/v1/ingest/kpi_strict/"
    ok = client.post(path, json.dumps(doc), content_type="application/json", **headers)
    assert ok.status_code == 200 and ok.json()["accepted"] == 1, ok.content
    doc["clientId"] = "temp-pub1"
    refused = client.post(path, json.dumps(doc), content_type="application/json", **headers)
    assert refused.json()["rejected"] == [
        {"index": 0, "reason": "malformed", "detail": "$.clientId: 'temp-pub1' is too short"}
    ]


@settings(max_examples=200, deadline=None)
@given(
    value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(),
    unit=st.integers(-2, 9) | st.floats() | st.text(max_size=3),
)
def test_any_value_and_unit_is_decoded_or_refused_never_raises(value, unit):
    doc = document(kpis=[{"name": "t", "unitId": unit, "value": value}])
    with contextlib.suppress(DecodeError):
        decoded = decode(json.dumps(doc).encode())
        assert len(decoded.messages) + len(decoded.refusals) == 1
