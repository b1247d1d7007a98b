"""The ingest service against a real Mosquitto, in this process (see test_loss.py for kills)."""

import urllib.request
from datetime import timedelta

import pytest
from django.db import OperationalError

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.decoders.base import Decoder
from sensorgrid.ingest.envelope import Decoded, Message
from sensorgrid.ingest.models import MqttRoute
from sensorgrid.mqtt import fastpath
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running, send
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Exploding(Decoder):
    """A decoder with a bug: it raises on every payload."""

    key = "test_exploding"

    def decode(self, envelope):
        raise RuntimeError("decoder bug")


class Misshapen(Decoder):
    """A decoder with a bug the pipeline's first step trips over: values not pairs."""

    key = "test_misshapen"

    def decode(self, envelope):
        return Decoded((Message(0, envelope.device, None, (("co2",),), envelope.payload),))


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = [
        "sensorgrid/{device}/up=json",
        "broken/{device}=test_exploding",
        "misshapen/{device}=test_misshapen",
    ]


def reading(device: str, hours: float, co2: float) -> tuple[str, dict]:
    return f"sensorgrid/{device}/up", {"ts": hours_ago(hours).isoformat(), "values": {"co2": co2}}


def samples(node) -> list[tuple]:
    return list(Sample.objects.filter(node=node).order_by("ts").values_list("ts", "value"))


def test_it_stores_what_devices_publish_and_the_broker_forgets_it_once_stored(world, mosquitto):
    device = world.node_a.device_id
    with running(mosquitto.url, client_id="ingest-a") as ingester:
        assert send(mosquitto.url, [reading(device, n, 600 + n) for n in (3, 2, 1)]) == 3
        eventually(lambda: len(samples(world.node_a)) == 3, what="three samples")
        eventually(lambda: ingester.stored_messages == 3)
    assert [value for _, value in samples(world.node_a)] == [603, 602, 601]
    world.node_a.refresh_from_db()
    assert world.node_a.last_seen is not None
    # Acknowledged after the commit: the same session gets nothing again.
    with running(mosquitto.url, client_id="ingest-a") as again:
        send(mosquitto.url, [reading(device, 0.5, 650)])
        eventually(lambda: len(samples(world.node_a)) == 4)
        eventually(lambda: again.stored_messages >= 1)
    assert again.stored_messages == 1


def test_messages_sent_while_it_is_away_wait_in_its_session(world, mosquitto):
    device = world.node_a.device_id
    with running(mosquitto.url, client_id="ingest-away"):
        pass  # the first connection creates the persistent session and its subscriptions
    assert send(mosquitto.url, [reading(device, n, 500 + n) for n in range(1, 51)]) == 50
    with running(mosquitto.url, client_id="ingest-away"):
        eventually(lambda: len(samples(world.node_a)) == 50, what="the 50 queued messages")


def test_the_topic_names_the_device_and_a_payload_cannot_claim_another(world, mosquitto):
    topic = f"sensorgrid/{world.node_a.device_id}/up"
    foreign = {"device": world.node_b.device_id, "values": {"co2": 999}}
    with running(mosquitto.url):
        send(mosquitto.url, [(topic, foreign), (topic, {"values": {"co2": 777}})])
        eventually(lambda: DeadLetter.objects.exists() and samples(world.node_a))
    assert [value for _, value in samples(world.node_a)] == [777]
    assert not Sample.objects.filter(node=world.node_b).exists()
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.source, letter.topic) == ("forbidden-device", "mqtt", topic)
    assert bytes(letter.payload) == b'{"device": "secretB-node", "values": {"co2": 999}}'


def test_a_crashing_decoder_costs_its_message_only(world, mosquitto):
    with running(mosquitto.url):
        send(mosquitto.url, [("broken/x", b"\x00\x01"), reading(world.node_a.device_id, 1, 610)])
        eventually(lambda: DeadLetter.objects.exists() and samples(world.node_a))
    letter = DeadLetter.objects.get()
    assert letter.reason == "decoder-error" and "decoder bug" in letter.detail
    assert bytes(letter.payload) == b"\x00\x01"


def test_unusable_payloads_become_dead_letters_with_the_reason(world, mosquitto):
    topic = f"sensorgrid/{world.node_a.device_id}/up"
    with running(mosquitto.url):
        send(
            mosquitto.url, [(topic, b"not json"), ("sensorgrid/nobody/up", {"values": {"co2": 1}})]
        )
        eventually(lambda: DeadLetter.objects.count() == 2)
    reasons = dict(DeadLetter.objects.values_list("topic", "reason"))
    assert reasons == {topic: "malformed", "sensorgrid/nobody/up": "unknown-device"}


def test_an_admin_route_takes_messages_of_its_own_topics(world, mosquitto):
    MqttRoute.objects.create(pattern="acme/{device}/data", decoder="json")
    with running(mosquitto.url):
        send(mosquitto.url, [(f"acme/{world.node_a.device_id}/data", {"values": {"co2": 420}})])
        eventually(lambda: samples(world.node_a))
    assert samples(world.node_a)[0][1] == 420


def test_a_shared_group_splits_the_messages_between_ingesters(world, mosquitto):
    device = world.node_a.device_id
    messages = [reading(device, n / 60, 400 + n) for n in range(1, 401)]
    with (
        running(mosquitto.url, client_id="one", shared_group="sg", batch_size=10) as one,
        running(mosquitto.url, client_id="two", shared_group="sg", batch_size=10) as two,
    ):
        assert send(mosquitto.url, messages) == 400
        eventually(lambda: len(samples(world.node_a)) == 400, what="400 samples")
        eventually(lambda: one.stored_messages + two.stored_messages == 400)
    assert one.stored_messages > 0 and two.stored_messages > 0
    assert one.stored_messages + two.stored_messages == 400


def test_batches_are_cut_by_size(world, mosquitto):
    device = world.node_a.device_id
    with running(mosquitto.url, batch_size=7, batch_seconds=5) as ingester:
        send(mosquitto.url, [reading(device, n / 60, 500) for n in range(1, 15)])
        # 14 messages, batches of 7: both stored long before the 5 s batch time.
        eventually(lambda: ingester.stored_messages == 14, timeout=4)
    first, last = samples(world.node_a)[0][0], samples(world.node_a)[-1][0]
    assert last - first == timedelta(minutes=13)


def test_a_backlog_of_many_batches_is_stored_once_with_its_refusals(world, mosquitto):
    # The next batch is decoded while the one before commits: batches of 8 from a
    # backlog of 60, refusals among them, all stored once and all acknowledged.
    device, topic = world.node_a.device_id, f"sensorgrid/{world.node_a.device_id}/up"
    messages = [reading(device, n / 60, 400 + n) for n in range(1, 58)]
    messages.insert(13, (topic, b"not json"))
    messages.insert(29, ("sensorgrid/nobody/up", {"values": {"co2": 1}}))
    messages.insert(47, ("broken/x", b"\x00\x01"))
    with running(mosquitto.url, client_id="many-batches"):
        pass  # the persistent session: what follows waits in it as one backlog
    assert send(mosquitto.url, messages) == 60
    with running(mosquitto.url, client_id="many-batches", batch_size=8) as ingester:
        eventually(lambda: ingester.stored_messages == 60, what="the backlog handled")
    assert [value for _, value in samples(world.node_a)] == [400 + n for n in range(57, 0, -1)]
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert reasons == ["decoder-error", "malformed", "unknown-device"]
    with running(mosquitto.url, client_id="many-batches") as again:
        send(mosquitto.url, [reading(device, 0, 1000)])  # after anything left unacknowledged
        eventually(lambda: again.stored_messages >= 1, what="the next message")
    assert again.stored_messages == 1  # nothing of the backlog came back
    assert len(samples(world.node_a)) == 58


def test_a_bug_met_while_decoding_ahead_costs_its_message_only(world, mosquitto):
    device = world.node_a.device_id
    messages = [reading(device, n / 60, 500 + n) for n in range(1, 20)]
    messages.insert(9, (f"misshapen/{device}", b"\x01"))
    with running(mosquitto.url, client_id="misshapen"):
        pass
    assert send(mosquitto.url, messages) == 20
    with running(mosquitto.url, client_id="misshapen", batch_size=5) as ingester:
        eventually(lambda: ingester.stored_messages == 20, what="all handled")
    assert len(samples(world.node_a)) == 19
    letter = DeadLetter.objects.get()
    assert letter.reason == "decoder-error" and bytes(letter.payload) == b"\x01"


def test_a_batch_whose_checks_ahead_lose_the_database_is_checked_again_and_stored(
    world, mosquitto, monkeypatch
):
    # The decode thread checks each closed batch on its own connection; when that fails
    # (here: its first three tries), the main thread does the batch whole and stores it.
    failures = []
    prepare = pipeline.prepare

    def failing(work):
        if len(failures) < 3:
            failures.append(work)
            raise OperationalError("server closed the connection unexpectedly")
        prepare(work)

    monkeypatch.setattr(pipeline, "prepare", failing)
    device = world.node_a.device_id
    with running(mosquitto.url, client_id="prepare-fails"):
        pass
    assert send(mosquitto.url, [reading(device, n / 60, 300 + n) for n in range(1, 31)]) == 30
    with running(mosquitto.url, client_id="prepare-fails", batch_size=6) as ingester:
        eventually(lambda: ingester.stored_messages == 30, what="all stored")
    assert len(failures) == 3
    assert [value for _, value in samples(world.node_a)] == [300 + n for n in range(30, 0, -1)]
    assert not DeadLetter.objects.exists()


def metric(port: int, line_start: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = [
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)
    ]
    return values[0] if values else 0.0


def test_the_metrics_port_counts_messages_by_route_and_outcome(world, mosquitto):
    port = free_port()
    stored = 'sensorgrid_ingest_messages_total{outcome="stored",route="sensorgrid/{device}/up"}'
    kept = (
        'sensorgrid_ingest_messages_total{outcome="dead-lettered",route="sensorgrid/{device}/up"}'
    )
    with running(mosquitto.url, metrics_port=port):
        before = metric(port, stored), metric(port, kept)
        send(mosquitto.url, [reading(world.node_a.device_id, n, 600) for n in (1, 2)])
        send(mosquitto.url, [("sensorgrid/nobody/up", {"values": {"co2": 1}})])
        eventually(lambda: metric(port, kept) == before[1] + 1, what="the dead letter counted")
        assert metric(port, stored) == before[0] + 2
        assert metric(port, "sensorgrid_ingest_broker_connected") == 1
        assert metric(port, "sensorgrid_ingest_batch_messages_count") >= 1


def test_a_burst_read_at_once_is_stored_without_waiting_for_more_traffic(
    world, mosquitto, monkeypatch
):
    # Far more packets arrive in one read than are handled before paho writes again:
    # none of them may wait in the read buffer for the next packet (or ping, 30 s).
    monkeypatch.setattr(fastpath, "PACKETS_PER_READ", 2)
    device = world.node_a.device_id
    with running(mosquitto.url, client_id="burst"):
        pass
    assert send(mosquitto.url, [reading(device, n / 60, 500 + n) for n in range(1, 41)]) == 40
    with running(mosquitto.url, client_id="burst") as ingester:
        eventually(lambda: ingester.stored_messages == 40, timeout=5, what="all 40 at once")
    assert len(samples(world.node_a)) == 40


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_publishes_with_properties_or_qos_0_are_read_like_any_other(world, mosquitto, protocol):
    """The ingester decodes a plain QoS 0/1 PUBLISH itself and leaves the rest to paho:
    both must give the same deliveries."""
    import json

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    device = world.node_a.device_id
    with running(mosquitto.url, protocol=protocol) as ingester:
        publisher = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        publisher.connect("127.0.0.1", mosquitto.port)
        publisher.loop_start()
        try:
            properties = Properties(PacketTypes.PUBLISH)
            properties.ContentType = "application/json"
            properties.UserProperty = ("site", "north")
            for hours, co2, qos, props in (
                (3, 601, 1, properties),  # properties: paho's decoder on MQTT 5
                (2, 602, 0, None),  # QoS 0: no packet id
                (1, 603, 1, None),  # the common case
            ):
                topic, body = reading(device, hours, co2)
                publisher.publish(
                    topic, json.dumps(body), qos=qos, properties=props
                ).wait_for_publish(10)
            # An empty payload: a dead letter, nothing stored, the loop goes on.
            publisher.publish(f"sensorgrid/{device}/up", b"", qos=1).wait_for_publish(10)
        finally:
            publisher.disconnect()
            publisher.loop_stop()
        eventually(lambda: len(samples(world.node_a)) == 3, what="the three readings")
        eventually(lambda: DeadLetter.objects.filter(source="mqtt").count() == 1)
    assert [value for _, value in samples(world.node_a)] == [601, 602, 603]
    assert ingester.stored_messages == 4  # all committed, the empty one as a dead letter
