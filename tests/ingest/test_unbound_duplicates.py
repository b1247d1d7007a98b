"""A device id of two organizations on an unbound MQTT route (brokerauth/acl.py).

With broker authentication on, only the id's first node (lowest pk) may publish on the
topic that names it, so the message is that node's; an open broker proves nothing, and
an id taken from a payload (not the topic) is no broker's guarantee: both stay refused
as ambiguous.
"""

import json

import pytest
from django.utils import timezone

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago


@pytest.fixture
def duplicate(world) -> Node:
    """Org B registers org A's device id (in other case) after org A did."""
    return Node.objects.create(organization=world.org_b, device_id=world.node_a.device_id.upper())


def on_topic(device: str, document: dict, authority: Authority | None = None):
    """An MQTT message on the unbound route ``sensorgrid/{device}/up``."""
    envelope = Envelope(
        source="mqtt",
        topic=f"sensorgrid/{device}/up",
        payload=json.dumps(document).encode(),
        received_at=timezone.now(),
        authority=authority,
        device=device,
    )
    return pipeline.ingest(envelope, "json")


def reading() -> dict:
    return {"ts": hours_ago(1).isoformat(), "values": {"co2": 640}}


def same_case_duplicate(world) -> Node:
    return Node.objects.create(organization=world.org_b, device_id=world.node_a.device_id)


def test_with_broker_auth_the_first_node_gets_its_message(world, settings):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    same_case_duplicate(world)
    outcome = on_topic(world.node_a.device_id, reading())
    assert outcome.accepted == 1 and not outcome.rejected
    assert list(Sample.objects.values_list("node_id", flat=True)) == [world.node_a.pk]
    assert not DeadLetter.objects.exists()


def test_with_an_open_broker_the_id_stays_ambiguous(world, settings):
    settings.SENSORGRID_BROKER_AUTH = "off"
    same_case_duplicate(world)
    outcome = on_topic(world.node_a.device_id, reading())
    assert [r.reason for r in outcome.rejected] == ["ambiguous-device"]
    assert not Sample.objects.exists()
    letter = DeadLetter.objects.get()
    assert (letter.organization_id, letter.node_id) == (None, None)


def test_with_broker_auth_a_device_named_by_the_payload_only_stays_ambiguous(world, settings):
    # No {device} level in the topic: the broker did not check who the device is.
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    same_case_duplicate(world)
    envelope = Envelope(
        source="mqtt",
        topic="plant/up",
        payload=json.dumps({"device": world.node_a.device_id, **reading()}).encode(),
        received_at=timezone.now(),
    )
    outcome = pipeline.ingest(envelope, "json")
    assert [r.reason for r in outcome.rejected] == ["ambiguous-device"]
    assert not Sample.objects.exists()


def test_a_route_bound_to_the_duplicates_organization_reaches_the_duplicate(world, settings):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    duplicate = same_case_duplicate(world)
    outcome = on_topic(world.node_a.device_id, reading(), Authority(world.org_b.pk))
    assert outcome.accepted == 1
    assert list(Sample.objects.values_list("node_id", flat=True)) == [duplicate.pk]


def test_an_id_in_other_case_is_another_topic_and_no_ambiguity(world, settings, duplicate):
    # Topics are case-sensitive: B's id spelled otherwise is B's own lookup; the broker
    # gives B no unbound topic for it (acl.py), so nothing arrives there in production.
    settings.SENSORGRID_BROKER_AUTH = "off"
    outcome = on_topic(world.node_a.device_id, reading())
    assert outcome.accepted == 1
    assert list(Sample.objects.values_list("node_id", flat=True)) == [world.node_a.pk]
