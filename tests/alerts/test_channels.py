"""E-mail and MQTT channels, and forwarders of public data, through the outbox."""

import json
import threading
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from sensorgrid.alerts import deliveries, evaluate, forwarding
from sensorgrid.alerts.models import Channel, Delivery, DeliveryStatus, Forwarder
from sensorgrid.ingest import pipeline
from sensorgrid.inventory.models import Quantity
from tests.alerts.conftest import rule, webhook
from tests.ingest.conftest import envelope
from tests.servers import Mosquitto


def open_alert(organization, node, channel):
    co2 = Quantity.objects.get(key="co2")
    watch = rule(organization, "threshold", {"above": 1000}, co2, [channel], name="CO2 high")
    now = timezone.now()
    with transaction.atomic():
        return evaluate.open_alert(watch, node.pk, co2.pk, now, now, 1234.0, "1234 > 1000", now)


def test_email_goes_through_django_mail_with_a_stable_message_id(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel = Channel.objects.create(
        organization=world.org_a, name="ops", kind="email", config={"to": ["ops@example.org"]}
    )
    alert = open_alert(world.org_a, world.node_a, channel)
    deliveries.send_due()
    (message,) = mail.outbox
    delivery = Delivery.objects.get(alert=alert)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert message.to == ["ops@example.org"] and "CO2 high" in message.subject
    assert message.extra_headers["Message-ID"] == f"<{delivery.idempotency_key}@sensorgrid>"
    assert "secretA-node" in message.body


def test_email_failures_are_retried(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    channel = Channel.objects.create(
        organization=world.org_a, name="ops", kind="email", config={"to": ["ops@example.org"]}
    )
    alert = open_alert(world.org_a, world.node_a, channel)
    deliveries.send_due()
    delivery = Delivery.objects.get(alert=alert)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "the mail server: connection failed: refused"


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


def test_mqtt_publishes_the_payload_with_its_idempotency_key(world, broker):
    received, subscribed = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, message: received.append(json.loads(message.payload))
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", broker.port)
    client.subscribe("alerts/org-a", qos=1)
    client.loop_start()
    try:
        assert subscribed.wait(5)
        channel = Channel.objects.create(
            organization=world.org_a,
            name="broker",
            kind="mqtt",
            config={"url": broker.url, "topic": "alerts/org-a"},
        )
        alert = open_alert(world.org_a, world.node_a, channel)
        deliveries.send_due()
        delivery = Delivery.objects.get(alert=alert)
        assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error
        deadline = timezone.now() + timedelta(seconds=5)
        while not received and timezone.now() < deadline:
            threading.Event().wait(0.05)
        (message,) = received
        assert message["idempotency_key"] == str(delivery.idempotency_key)
        assert message["alert"]["id"] == alert.pk and message["event"] == "alert.opened"
    finally:
        client.loop_stop()
        client.disconnect()


def test_mqtt_to_a_broker_that_is_down_is_retried(world):
    channel = Channel.objects.create(
        organization=world.org_a,
        name="broker",
        kind="mqtt",
        config={"url": "mqtt://127.0.0.1:1", "topic": "alerts"},
    )
    alert = open_alert(world.org_a, world.node_a, channel)
    deliveries.send_due()
    delivery = Delivery.objects.get(alert=alert)
    assert delivery.status == DeliveryStatus.PENDING and "refused" in delivery.last_error.lower()


def ingest(device, *points):
    now = timezone.now().replace(microsecond=0)
    messages = [
        {"device": device, "ts": (now - timedelta(minutes=ago)).isoformat(), "values": {"co2": v}}
        for ago, v in points
    ]
    pipeline.ingest(envelope(json.dumps(messages).encode()), "json")


def test_forwarders_send_public_samples_in_batches_and_resume_after_an_outage(world, receiver):
    channel = webhook(world.org_a, receiver)
    forwarder = Forwarder.objects.create(
        organization=world.org_a, name="open data", channel=channel, batch_size=2
    )
    Forwarder.objects.filter(pk=forwarder.pk).update(created_at=timezone.now() - timedelta(hours=1))
    ingest(world.public_node.device_id, (30, 500), (20, 510), (10, 520))
    ingest(world.node_a.device_id, (30, 999))  # private installation: never forwarded
    receiver.script = [500]  # the receiver is down for the first attempt
    t0 = timezone.now()
    assert forwarding.run_due(t0) == 2  # two batches: 2 + 1 samples
    assert forwarding.run_due(t0 + timedelta(seconds=30)) == 0  # interval not yet over
    deliveries.send_due(t0)
    deliveries.send_due(t0 + timedelta(minutes=5))
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    ingest(world.public_node.device_id, (0, 530))
    assert forwarding.run_due(t0 + timedelta(minutes=2)) == 1
    deliveries.send_due(t0 + timedelta(minutes=10))
    delivered = [b for b in receiver.bodies() if b["event"] == "samples"]
    values = [s["value"] for b in delivered for s in b["samples"]]
    assert sorted(set(values)) == [500, 510, 520, 530]  # each once (one batch sent twice)
    assert len(receiver.processed) == 3
    assert {s["device"] for b in delivered for s in b["samples"]} == {"secretA-public-node"}


def test_a_forwarder_without_public_installations_sends_nothing(world, receiver):
    channel = webhook(world.org_b, receiver)
    Forwarder.objects.create(organization=world.org_b, name="f", channel=channel)
    ingest(world.node_b.device_id, (5, 600))
    assert forwarding.run_due(timezone.now()) == 0
