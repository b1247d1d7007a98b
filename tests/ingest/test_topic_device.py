"""A node may write only as itself on the topic that names it, whatever the decoder.

The broker lets node A publish on the topics whose ``{device}`` level is A's id; the
decoders that read the device from the payload (TTN, managair) must not let A's message
name node B there. A topic id that names no node (a network server's device name beside
the DevEUI the node is registered with) still leaves the payload to decide.
"""

import json

import pytest
from django.utils import timezone

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago


def on_topic(topic_device: str, decoder: str, document: dict):
    envelope = Envelope(
        source="mqtt",
        topic=f"custom/{topic_device}/up",
        payload=json.dumps(document).encode(),
        received_at=timezone.now(),
        device=topic_device,
    )
    return pipeline.ingest(envelope, decoder)


def ttn_uplink(device_id: str) -> dict:
    return {
        "end_device_ids": {"device_id": device_id},
        "received_at": hours_ago(1).isoformat(),
        "uplink_message": {"f_port": 1, "decoded_payload": {"co2": 612}},
    }


def managair_sample(node: str) -> dict:
    return {"node": node, "timestamp_s": hours_ago(1).isoformat(), "co2_ppm": 612}


@pytest.mark.parametrize(
    ("decoder", "document"), [("ttn", ttn_uplink), ("managair", managair_sample)]
)
@pytest.mark.parametrize("broker_auth", ["dynsec", "off"])
def test_a_payload_naming_another_node_on_a_nodes_topic_is_refused(
    world, settings, decoder, document, broker_auth
):
    settings.SENSORGRID_BROKER_AUTH = broker_auth
    outcome = on_topic(world.node_a.device_id, decoder, document(world.node_b.device_id))
    assert outcome.accepted == 0
    assert outcome.refused is not None and outcome.refused.reason == "forbidden-device"
    assert not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert letter.reason == "forbidden-device"
    assert world.node_b.device_id in letter.detail and world.node_a.device_id in letter.detail


@pytest.mark.parametrize(
    ("decoder", "document"), [("ttn", ttn_uplink), ("managair", managair_sample)]
)
def test_a_payload_naming_the_topics_own_node_is_stored(world, settings, decoder, document):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    outcome = on_topic(world.node_a.device_id, decoder, document(world.node_a.device_id))
    assert outcome.accepted == 1 and not outcome.rejected
    assert set(Sample.objects.values_list("node_id", flat=True)) == {world.node_a.pk}


def test_a_topic_id_that_names_no_node_leaves_the_payload_to_decide(world, settings):
    # The Things Stack's own device name in the topic, the node registered by DevEUI.
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    eui = "70b3d57ed0000001"
    node = Node.objects.create(organization=world.org_a, device_id=eui)
    uplink = ttn_uplink("room-12-sensor")
    uplink["end_device_ids"]["dev_eui"] = eui.upper()
    outcome = on_topic("room-12-sensor", "ttn", uplink)
    assert outcome.accepted == 1 and not outcome.rejected
    assert set(Sample.objects.values_list("node_id", flat=True)) == {node.pk}
