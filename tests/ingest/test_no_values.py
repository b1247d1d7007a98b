"""A message that yields no value and no refusal is never "stored" (issue 18, item 2).

It becomes a ``no-values`` dead letter, named in the answer and counted as dead-lettered,
not as ingested; an uplink that carries nothing but its radio data still stores that.
(A JSON message with an empty ``values`` object is refused as ``malformed`` earlier, by
its decoder.)
"""

import json

from prometheus_client import REGISTRY

from sensorgrid.ingest import codecs, pipeline
from sensorgrid.telemetry.models import DeadLetter, Reception, Sample
from tests import factories as f
from tests.ingest.conftest import envelope
from tests.ingest.test_lorawan import DEV_EUI, BytesCodec, ttn_uplink, uplink

OTHER_EUI = "70B3D57ED005B89B"


class SkippingCodec(codecs.Codec):
    """Test codec: reads every frame and keeps nothing of it (like a codec meeting only
    types it skips, e.g. digital inputs)."""

    key = "test_no_values_skipping"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        return {}


def dead_letters(reason: str, source: str) -> float:
    value = REGISTRY.get_sample_value(
        "sensorgrid_dead_letters_total", {"reason": reason, "source": source}
    )
    return value or 0.0


def ingested(source: str) -> float:
    value = REGISTRY.get_sample_value(
        "sensorgrid_ingested_samples_total", {"source": source, "result": "new"}
    )
    return value or 0.0


def test_a_frame_the_codec_reads_to_nothing_is_a_no_values_dead_letter(
    world, django_capture_on_commit_callbacks
):
    model = f.NodeModelFactory(organization=world.org_a, decoder=SkippingCodec.key)
    node = f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    before = dead_letters("no-values", "http"), ingested("http")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = uplink(ttn_uplink(decoded=None))
    assert outcome.accepted == 0
    assert [(r.reason, r.detail) for r in outcome.rejected] == [
        ("no-values", "the frame on port 2 (3 bytes) decoded to no value; nothing was stored")
    ]
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.node_id, letter.organization_id) == (
        "no-values",
        node.pk,
        world.org_a.pk,
    )
    assert not Sample.objects.exists()
    assert Reception.objects.count() == 2  # the gateways heard it all the same
    assert (dead_letters("no-values", "http"), ingested("http")) == (before[0] + 1, before[1])


def test_only_the_empty_uplink_of_a_batch_is_kept(world):
    skipping = f.NodeModelFactory(organization=world.org_a, decoder=SkippingCodec.key)
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=skipping)
    reading = f.NodeModelFactory(organization=world.org_a, decoder=BytesCodec.key)
    f.NodeFactory(organization=world.org_a, device_id=OTHER_EUI, model=reading)
    batch = pipeline.ingest_many(
        [
            envelope(json.dumps(ttn_uplink(dev_eui=OTHER_EUI, device_id="other")).encode()),
            envelope(json.dumps(ttn_uplink()).encode()),
        ],
        "ttn",
    )
    first, second = batch.outcomes
    assert (first.accepted, first.rejected) == (2, [])  # temperature and co2
    assert (second.accepted, [r.reason for r in second.rejected]) == (0, ["no-values"])
    assert Sample.objects.count() == 2
    assert list(DeadLetter.objects.values_list("reason", flat=True)) == ["no-values"]


def test_an_uplink_with_only_radio_data_stays_a_reception_not_a_dead_letter(world):
    model = f.NodeModelFactory(organization=world.org_a, decoder=SkippingCodec.key)
    f.NodeFactory(organization=world.org_a, device_id=DEV_EUI, model=model)
    outcome = uplink(ttn_uplink(decoded=None, frame=None))
    assert (outcome.accepted, outcome.rejected) == (0, [])
    assert Reception.objects.count() == 2 and not DeadLetter.objects.exists()
