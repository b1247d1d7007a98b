"""A callback that raises in paho's network thread costs nothing, through a real Mosquitto.

paho lets an exception from a callback end its network thread: the ingester then idled,
connected in name, and nothing more was stored until someone restarted it. The guard at
the callback edge logs and counts it and the connection carries on.
"""

import logging
import threading

import pytest
from prometheus_client import REGISTRY

from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.client import Connection
from sensorgrid.ingest.mqtt.service import Ingester
from sensorgrid.telemetry.models import Sample
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

POISON = "sensorgrid/poison/up"


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]


class FailingOnce(Connection):
    """The real connection, with a delivery handler (the service's extension point:
    ``Ingester(connection_class=…)``) that raises on the first poisoned message."""

    def __init__(self, options, filters, deliver, **kwargs) -> None:
        self.raised = 0

        def handler(delivery) -> None:
            if delivery.topic == POISON and not self.raised:
                self.raised += 1
                raise RuntimeError("handler bug on a poisoned message")
            deliver(delivery)

        super().__init__(options, filters, handler, **kwargs)


def errors() -> float:
    value = REGISTRY.get_sample_value(
        "sensorgrid_ingest_callback_errors_total", {"client": "ingest", "callback": "on_message"}
    )
    return value or 0.0


def reading(device: str, n: int) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(n / 60).isoformat(), "values": {"co2": n}}


def test_a_raising_message_callback_does_not_stop_later_messages_from_being_stored(
    world, mosquitto, caplog
):
    device = world.node_a.device_id
    options = config.options(url=mosquitto.url, client_id="guarded")
    ingester = Ingester(options, config.route_table(), connection_class=FailingOnce)
    thread = threading.Thread(target=ingester.run, daemon=True)
    before = errors()
    thread.start()
    try:
        assert ingester.connection.subscribed.wait(10)
        with caplog.at_level(logging.ERROR, logger="sensorgrid.mqtt.guard"):
            assert send(mosquitto.url, [(POISON, {"values": {"co2": 1}})]) == 1
            eventually(lambda: ingester.connection.raised == 1, what="the handler raised")
            assert send(mosquitto.url, [reading(device, n) for n in range(1, 6)]) == 5
            eventually(lambda: ingester.stored_messages == 5, what="later messages stored")
    finally:
        ingester.stop()
        thread.join(15)
    assert Sample.objects.filter(node=world.node_a).count() == 5
    assert errors() == before + 1
    assert "ingest MQTT client's on_message callback failed; the connection stays up" in caplog.text
    assert "RuntimeError: handler bug on a poisoned message" in caplog.text
    # It stayed unacknowledged: the broker delivers it again on the next connection.
    with running(mosquitto.url, client_id="guarded") as again:
        eventually(lambda: again.stored_messages == 1, what="the poisoned message redelivered")
