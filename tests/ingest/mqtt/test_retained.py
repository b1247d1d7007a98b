"""Retained messages: stored when they are live, never again from the broker's copy.

A device may publish with the retain flag. The broker keeps the last such message per
topic and replays it, flagged as retained, to every new subscription; the ingester
subscribes again at every connection. Stored at each replay, a message without its own
time would become a new sample at every reconnect (and a device revoked since would keep
writing through the broker's copy).
"""

import json

import pytest

from sensorgrid.mqtt import parse
from sensorgrid.telemetry.models import Sample
from tests.ingest.mqtt.conftest import eventually, running
from tests.support.publisher import publish

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PROTOCOLS = pytest.mark.parametrize("protocol", ["5", "3.1.1"])


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]


def retain(url: str, device: str, co2: int) -> None:
    """A reading without a time of its own (the ingester stamps it on arrival)."""
    payload = json.dumps({"values": {"co2": co2}})
    assert publish(parse(url), [(f"sensorgrid/{device}/up", payload)], retain=True) == 1


def values(node) -> list[float]:
    return list(Sample.objects.filter(node=node).order_by("ts").values_list("value", flat=True))


@PROTOCOLS
def test_a_retained_message_is_stored_once_however_often_the_ingester_reconnects(
    world, mosquitto, protocol
):
    device = world.node_a.device_id
    with running(mosquitto.url, client_id="ingest-r", protocol=protocol):
        retain(mosquitto.url, device, 612)
        eventually(lambda: values(world.node_a) == [612], what="the live retained message")
    for _ in range(2):  # each connection subscribes again: the broker replays its copy
        with running(mosquitto.url, client_id="ingest-r", protocol=protocol) as ingester:
            eventually(lambda: ingester.connection.subscribed.is_set())
            # A live message after the replay: once it is stored, the replay was handled.
            publish(parse(mosquitto.url), [(f"sensorgrid/{device}/up", '{"values": {"co2": 1}}')])
            eventually(lambda: 1 in values(world.node_a), what="the message after the replay")
        Sample.objects.filter(node=world.node_a, value=1).delete()
    assert values(world.node_a) == [612]


@PROTOCOLS
def test_a_retained_message_published_while_the_ingester_is_away_waits_in_its_session(
    world, mosquitto, protocol
):
    device = world.node_a.device_id
    with running(mosquitto.url, client_id="ingest-away", protocol=protocol):
        pass  # creates the persistent session and its subscription
    retain(mosquitto.url, device, 640)
    with running(mosquitto.url, client_id="ingest-away", protocol=protocol):
        eventually(lambda: values(world.node_a) == [640], what="the queued retained message")


def test_a_retained_message_from_before_the_first_subscription_is_not_stored(world, mosquitto):
    retain(mosquitto.url, world.node_a.device_id, 700)
    with running(mosquitto.url, client_id="ingest-new"):
        publish(
            parse(mosquitto.url),
            [(f"sensorgrid/{world.node_a.device_id}/up", '{"values": {"co2": 2}}')],
        )
        eventually(lambda: values(world.node_a) == [2], what="the live message")
