"""A poisonous message costs only itself, through a real Mosquitto and both databases.

It used to fail its whole batch (a NUL device id broke the node lookup on PostgreSQL),
which was then written again one message per transaction: with one such message per
250, throughput fell to about 2 % (bench/poisoned.py measures it).
"""

import json
import logging
import math
import threading
import uuid

import pytest

from sensorgrid.ingest.decoders.base import Decoder
from sensorgrid.ingest.envelope import Decoded, Message, Radio
from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.service import Ingester
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class RadioBug(Decoder):
    """A decoder with a bug only the database notices: a text signal strength."""

    key = "test_radio_bug"

    def decode(self, envelope):
        document = json.loads(envelope.payload)
        radio = Radio("gw-1", rssi=document["rssi"])
        values = (("co2", document["co2"]),)
        return Decoded((Message(0, envelope.device, None, values, document, radio=(radio,)),))


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = [
        "sensorgrid/{device}/up=json",
        "anydevice/up=json",
        "buggy/{device}=test_radio_bug",
    ]


def reading(device: str, n: int) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(n / 60).isoformat(), "values": {"co2": n}}


def backlog_then_drain(url: str, messages, ingester_class=Ingester, **overrides):
    """Publish while the ingester is away, so the backlog arrives at once: one batch."""
    client_id = f"poison-{uuid.uuid4().hex[:8]}"
    with running(url, client_id=client_id):
        pass  # creates the persistent session
    assert send(url, messages) == len(messages)
    options = config.options(url=url, client_id=client_id, **overrides)
    return ingester_class(options, config.route_table())


def run_until(ingester, count: int) -> None:
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: ingester.stored_messages == count, what=f"{count} messages handled")
    finally:
        ingester.stop()
        thread.join(15)


def test_a_nul_device_id_in_a_batch_is_a_dead_letter_and_the_rest_is_stored(
    world, mosquitto, caplog
):
    device = world.node_a.device_id
    poisoned = ("anydevice/up", {"device": f"{device}\x00", "values": {"co2": 1}})
    messages = [reading(device, n) for n in range(1, 121)]
    messages.insert(60, poisoned)
    ingester = backlog_then_drain(mosquitto.url, messages)
    with caplog.at_level(logging.WARNING, logger="sensorgrid.ingest.mqtt.service"):
        run_until(ingester, len(messages))
    assert Sample.objects.filter(node=world.node_a).count() == 120
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.topic) == ("malformed", "anydevice/up")
    assert "device id 'secretA-node\\x00' contains a null character" in letter.detail
    assert json.loads(bytes(letter.payload))["device"] == f"{device}\x00"
    # Refused by validation: the batch never failed, nothing was written twice.
    assert "failed" not in caplog.text


class CountingIngester(Ingester):
    """The real ingester, counting its transactions."""

    writes = 0

    def _write(self, batch):
        self.writes += 1
        return super()._write(batch)


def test_a_batch_failing_on_a_bug_is_bisected_not_written_one_by_one(world, mosquitto):
    device = world.node_a.device_id
    messages = [reading(device, n) for n in range(1, 64)]
    messages.insert(40, (f"buggy/{device}", {"co2": 700, "rssi": "loud"}))
    ingester = backlog_then_drain(mosquitto.url, messages, CountingIngester)
    run_until(ingester, len(messages))
    assert Sample.objects.filter(node=world.node_a).count() == 63
    letter = DeadLetter.objects.get()
    assert letter.reason == "decoder-error" and "rssi" in letter.detail
    # One failing batch of 64 costs 1 + 2·log2(64) writes; one by one it was 65.
    assert ingester.writes <= 1 + 2 * math.ceil(math.log2(len(messages))) + 2
