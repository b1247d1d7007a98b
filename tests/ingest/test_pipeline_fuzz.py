"""Every registered decoder, fed random and mutated payloads through the whole pipeline:
each payload ends as stored values or dead letters with a reason, never an exception."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorgrid.ingest import decoders, pipeline
from sensorgrid.telemetry.models import DeadLetter, Reason
from tests.ingest.conftest import envelope

DECODERS = decoders.available()
REASONS = set(Reason.values)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


def mutations(world):
    """Plausible documents with one field replaced by anything."""
    device = world.node_a.device_id
    base = {
        "device": device,
        "device_id": device,
        "clientId": device,
        "ts": "2026-11-20T10:00:00Z",
        "timestamp": 1795000000,
        "speed": 12.5,
        "values": {"co2": 600},
        "kpis": [{"name": "co2", "unitId": 100, "value": 612}],
        "end_device_ids": {"dev_eui": device, "device_id": device},
        "uplink_message": {"decoded_payload": {"temperature": 21}, "frm_payload": "AQI="},
        "deviceInfo": {"devEui": device},
        "object": {"co2": 500},
        "data": "AQI=",
    }
    return st.builds(
        lambda key, value: json.dumps({**base, key: value}, default=str).encode(),
        st.sampled_from(sorted(base)),
        json_values,
    )


def payloads(world):
    return (
        st.binary(max_size=200)
        | json_values.map(lambda v: json.dumps(v, default=str).encode())
        | mutations(world)
    )


def test_no_payload_escapes_the_pipeline_as_an_exception(world):
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(decoder=st.sampled_from(DECODERS), payload=payloads(world))
    def check(decoder, payload):
        before = DeadLetter.objects.count()
        outcome = pipeline.ingest(envelope(payload, source="mqtt", topic="fuzz/t"), decoder)
        letters = DeadLetter.objects.order_by("-pk")[: DeadLetter.objects.count() - before]
        assert {letter.reason for letter in letters} <= REASONS
        if outcome.refused is not None or outcome.rejected:
            assert len(outcome.dead_letter_ids) >= 1
            # New letters, or identical refusals counted on an earlier one (ingest.filing).
            ids = set(outcome.dead_letter_ids)
            assert {letter.pk for letter in letters} <= ids
            assert DeadLetter.objects.filter(pk__in=ids).count() == len(ids)
        else:  # stored, repeated, or nothing to store (an empty list): no dead letter
            assert not letters

    check()
