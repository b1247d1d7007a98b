"""``sensorgrid ingest`` runs after-ack consumers after the PUBACKs of their batch, and a
consumer that raises there neither loses a message nor stops the service (issue 17)."""

import pytest

from sensorgrid.ingest.events import Committed
from sensorgrid.telemetry.models import Sample
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]


def reading(device: str, hours: float) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(hours).isoformat(), "values": {"co2": 600}}


def counting_acks(ingester) -> list[int]:
    """How many deliveries the ingester has acknowledged, as a list one can read later."""
    acked = [0]
    ack = ingester.connection.ack

    def counted(batch):
        result = ack(batch)
        acked[0] += len(batch)
        return result

    ingester.connection.ack = counted
    return acked


def test_after_ack_consumers_run_after_the_ack_and_before_ack_ones_before_it(
    world, mosquitto, listen
):
    seen = []
    with running(mosquitto.url) as ingester:
        acked = counting_acks(ingester)
        listen(Committed, lambda report: seen.append(("before-ack", acked[0])), "before-ack")
        listen(Committed, lambda report: seen.append(("after-ack", acked[0])), "after-ack")
        assert send(mosquitto.url, [reading(world.node_a.device_id, 1)]) == 1
        eventually(lambda: len(seen) == 2, what="both consumers")
    assert seen == [("before-ack", 0), ("after-ack", 1)]


def test_a_consumer_that_raises_after_the_ack_stops_nothing(world, mosquitto, listen):
    def broken(report):
        raise RuntimeError("consumer bug")

    listen(Committed, broken, "after-ack")
    device = world.node_a.device_id
    with running(mosquitto.url) as ingester:
        send(mosquitto.url, [reading(device, 2)])
        eventually(lambda: ingester.stored_messages == 1)
        send(mosquitto.url, [reading(device, 1)])
        eventually(lambda: ingester.stored_messages == 2, what="the next batch")
    assert Sample.objects.filter(node=world.node_a).count() == 2
