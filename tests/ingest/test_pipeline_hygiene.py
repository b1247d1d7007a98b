"""Poisoned input: ids no database can store (NUL, lone surrogates) cost only their message.

On PostgreSQL a NUL in a device id used to fail the node lookup, so the whole
request answered 500 and nothing (not even a dead letter) was kept.
"""

import json

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from sensorgrid.ingest import pipeline
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests import factories as f
from tests.ingest.conftest import envelope, hours_ago
from tests.ingest.test_lorawan import DEV_EUI, BytesCodec, ttn_uplink

NUL_DEVICE = "secretA-node\x00"
SURROGATE_JSON = b'{"device": "x\\ud800", "values": {"co2": 600}}'


def reading(device, **values):
    return {"device": device, "ts": hours_ago(1).isoformat(), "values": values or {"co2": 600}}


def test_a_nul_device_id_is_one_dead_letter_and_the_rest_is_stored(world):
    payload = json.dumps(
        [reading(world.node_a.device_id), reading(NUL_DEVICE), reading(world.node_b.device_id)]
    ).encode()
    outcome = pipeline.ingest(envelope(payload), "json")
    assert outcome.accepted == 2
    assert [(r.index, r.reason) for r in outcome.rejected] == [(1, "malformed")]
    assert "null character" in outcome.rejected[0].detail
    letter = DeadLetter.objects.get()
    assert letter.reason == "malformed"
    assert letter.detail.startswith("device id 'secretA-node\\x00' contains a null character")
    assert letter.device_id == "secretA-node\\x00"  # escaped: the column cannot hold NUL
    assert json.loads(bytes(letter.payload))["device"] == NUL_DEVICE  # the raw bytes, exactly


def test_a_lone_surrogate_from_a_json_escape_is_refused_with_its_code_point(world):
    outcome = pipeline.ingest(envelope(SURROGATE_JSON), "json")
    assert outcome.rejected[0].reason == "malformed"
    letter = DeadLetter.objects.get()
    assert "lone surrogate (\\ud800)" in letter.detail
    assert letter.device_id == "x\\ud800"
    assert json.loads(bytes(letter.payload))["device"] == "x\ud800"


def test_a_nul_quantity_key_refuses_its_message_only(world):
    payload = json.dumps(
        [reading(world.node_a.device_id, **{"co2\x00": 1}), reading(world.node_b.device_id)]
    ).encode()
    outcome = pipeline.ingest(envelope(payload), "json")
    assert outcome.accepted == 1
    assert "quantity key 'co2\\x00'" in DeadLetter.objects.get().detail


def test_a_surrogate_pair_escape_is_a_character_and_its_message_is_stored(world):
    # Its escape makes the payload be checked message by message: still storable.
    world.node_a.device_id = "sensor-\U0001f331"
    world.node_a.save(update_fields=["device_id"])
    payload = json.dumps([reading(world.node_a.device_id), reading(world.node_b.device_id)])
    assert "\\ud83c" in payload  # json.dumps escapes it as a pair
    outcome = pipeline.ingest(envelope(payload.encode()), "json")
    assert (outcome.accepted, outcome.rejected) == (2, [])


@pytest.mark.parametrize(
    "body, query, culprit",
    [
        (b"air,device=x\x00y co2=600i", "", "Embedded NUL bytes are not supported"),
        (b"air,device={a} c\x00o2=600i", "", "Embedded NUL bytes are not supported"),
        (b"air co2=600i", "&device=x%00y", "device id 'x\\x00y' contains a null character"),
    ],
)
def test_a_nul_in_a_line_protocol_line_refuses_that_line_only(world, body, query, culprit):
    first = f"air,device={world.node_a.device_id} co2=600i\n".encode()
    body = first + body.replace(b"{a}", world.node_a.device_id.encode())
    topic = f"/api/v2/write?precision=ns{query}"
    outcome = pipeline.ingest(envelope(body, topic=topic), "influx_line")
    assert outcome.accepted == 1
    [rejection] = outcome.rejected
    assert (rejection.index, rejection.reason) == (1, "malformed")
    assert culprit in rejection.detail
    assert culprit in DeadLetter.objects.get().detail


def test_a_nul_gateway_id_refuses_the_uplink_before_any_reception_is_written(world):
    model = f.NodeModelFactory(organization=world.org_a, decoder=BytesCodec.key)
    node = f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    document = ttn_uplink()
    document["uplink_message"]["rx_metadata"][1]["gateway_ids"]["gateway_id"] = "gw\x00cellar"
    outcome = pipeline.ingest(envelope(json.dumps(document).encode()), "ttn")
    assert outcome.rejected[0].reason == "malformed"
    assert "gateway id 'gw\\x00cellar'" in outcome.rejected[0].detail
    assert not Reception.objects.filter(node=node).exists()
    assert DeadLetter.objects.get().reason == "malformed"


def test_nul_in_what_a_decoder_puts_into_a_refusal_is_escaped_in_the_dead_letter(world):
    # Refused by the decoder itself ("values" is not an object), naming the NUL device.
    payload = json.dumps({"device": "dev\x00ice", "values": "nope"}).encode()
    outcome = pipeline.ingest(envelope(payload, topic="/api/v1/ingest/\x00"), "json")
    assert outcome.rejected[0].reason == "malformed"
    letter = DeadLetter.objects.get()
    assert (letter.device_id, letter.topic) == ("dev\\x00ice", "/api/v1/ingest/\\x00")


def test_http_ingest_with_a_nul_device_id_answers_200_and_keeps_a_dead_letter(world):
    credential = world.node_a.issue_credential()
    world.node_a.save(update_fields=["credential_digest"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    body = json.dumps([reading(world.node_a.device_id), reading(NUL_DEVICE)])
    response = client.post("/api/v1/ingest/", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    (rejection,) = response.json()["rejected"]
    assert (rejection["index"], rejection["reason"]) == (1, "malformed")
    assert "null character" in rejection["detail"]
    assert Sample.objects.filter(node=world.node_a).count() == 1
    assert DeadLetter.objects.get().organization_id == world.org_a.pk


unstorable = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80"])
poisoned_text = st.builds(
    lambda head, bad, tail: head + bad + tail, st.text(max_size=8), unstorable, st.text(max_size=8)
)


def refusals() -> int:
    return DeadLetter.objects.aggregate(n=Sum("count"))["n"] or 0


def test_fuzzed_poisoned_strings_never_escape_the_pipeline(world):
    """Any field of a message carrying NUL or a lone surrogate ends as a dead letter."""

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        field=st.sampled_from(["device", "key", "value", "ts", "extra"]),
        text=poisoned_text,
        decoder=st.sampled_from(["json", "ttn", "chirpstack", "managair", "kpi", "vehicle"]),
    )
    def check(field, text, decoder):
        document = reading(world.node_a.device_id)
        if field == "device":
            document["device"] = text
        elif field == "key":
            document["values"] = {text: 600}
        elif field == "value":
            document["values"] = {"co2": text}
        elif field == "ts":
            document["ts"] = text
        else:
            document[text] = text
        # ensure_ascii: surrogates travel as \\udxxx escapes, as a client would send them
        payload = json.dumps([document, reading(world.node_b.device_id)]).encode()
        before = refusals()
        outcome = pipeline.ingest(envelope(payload, topic=f"fuzz/{text}"), decoder)
        # A refusal identical to an earlier example's is counted on its letter, not
        # stored again (ingest/filing.py): count refusals, not rows.
        assert refusals() - before == len(outcome.dead_letter_ids)
        for letter in DeadLetter.objects.filter(pk__in=outcome.dead_letter_ids):
            assert "\x00" not in letter.detail + letter.device_id + letter.topic

    check()
