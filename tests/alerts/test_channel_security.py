"""Issue 16, items 9 and 11: channels cannot reach internal services, their secrets are
write-only, and the webhook signature covers the idempotency key and the timestamp."""

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler

import paho.mqtt.client as mqtt
import pytest
from django.db import transaction

from sensorgrid.alerts import deliveries
from sensorgrid.alerts.channels.webhook import verify
from sensorgrid.alerts.models import Channel, Delivery, DeliveryStatus
from sensorgrid.outbound.addresses import REFUSED
from tests.alerts.conftest import webhook
from tests.servers import Mosquitto, http_server


def deliver(channel) -> Delivery:
    with transaction.atomic():
        delivery = deliveries.enqueue(channel, "test", {"event": "test"})
    deliveries.send_due()
    delivery.refresh_from_db()
    return delivery


def channel(organization, kind, config) -> Channel:
    # Straight into the database: what the API refuses at save time (a literal address)
    # or cannot see coming (a name that resolves to loopback) must still be refused.
    return Channel.objects.create(organization=organization, name="c", kind=kind, config=config)


# -- SSRF: webhooks ---------------------------------------------------------------------


def test_a_webhook_to_loopback_is_refused_at_connect_time(world, receiver, settings):
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    for url in (receiver.url, f"http://localhost:{receiver.port}/hook"):
        delivery = deliver(channel(world.org_a, "webhook", {"url": url}))
        assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
        assert delivery.last_error == REFUSED
    assert receiver.requests == []


def test_a_webhook_to_the_metadata_service_is_refused_without_a_packet(world, settings):
    settings.SENSORGRID_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    started = time.monotonic()
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"):
        delivery = deliver(channel(world.org_a, "webhook", {"url": url}))
        assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == REFUSED
    assert time.monotonic() - started < 1  # refused, not timed out


def test_users_read_a_generic_reason_never_the_receivers_answer(world, settings):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500, "root password is hunter2")
            self.end_headers()
            self.wfile.write(b'{"aws_secret": "internal detail"}')

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        hook = channel(world.org_a, "webhook", {"url": f"http://127.0.0.1:{port}/"})
        delivery = deliver(hook)
    assert delivery.last_error == "the remote service answered HTTP 500"
    shown = outbox_api_error(world, delivery)
    assert "hunter2" not in shown and "internal detail" not in shown


def outbox_api_error(world, delivery) -> str:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(world.bob)  # an inspector of org A
    return client.get(f"/api/v1/deliveries/{delivery.pk}/").json()["last_error"]


def test_a_webhook_is_not_redirected(world, settings):
    hits = []

    class Internal(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    with http_server(Internal) as internal:

        class Redirect(BaseHTTPRequestHandler):
            def do_POST(self):
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{internal}/admin")
                self.end_headers()

            def log_message(self, *args):
                pass

        with http_server(Redirect) as port:
            settings.SENSORGRID_OUTBOUND_ALLOW = [f"127.0.0.1:{port}"]
            delivery = deliver(channel(world.org_a, "webhook", {"url": f"http://127.0.0.1:{port}"}))
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "the remote service answered HTTP 307" and hits == []


@pytest.mark.parametrize(
    "kind, url",
    [
        ("webhook", "http://127.0.0.1:8000/hook"),
        ("webhook", "http://localhost/"),
        ("webhook", "http://169.254.169.254/latest/meta-data/iam/"),
        ("webhook", "http://[::ffff:10.0.0.1]/"),
        ("webhook", "http://0x7f000001/"),
        ("mqtt", "mqtt://192.168.1.10:1883"),
        ("mqtt", "mqtts://localhost"),
    ],
)
def test_the_api_refuses_a_literal_internal_address_with_a_400(
    world, client_for, settings, kind, url
):
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    config = {"url": url, "topic": "alerts"} if kind == "mqtt" else {"url": url}
    response = client_for(world.alice).post(
        "/api/v1/alert-channels/",
        {"organization": world.org_a.pk, "name": "x", "kind": kind, "config": config},
        format="json",
    )
    assert response.status_code == 400
    assert "SENSORGRID_OUTBOUND_ALLOW" in response.json()["config"][0]
    assert not Channel.objects.exists()


def test_an_allowed_internal_address_may_be_saved(world, client_for, settings):
    settings.SENSORGRID_OUTBOUND_ALLOW = ["10.0.0.0/8"]
    response = client_for(world.alice).post(
        "/api/v1/alert-channels/",
        {"organization": world.org_a.pk, "name": "x", "kind": "webhook",
         "config": {"url": "http://10.1.2.3/hook"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201


# -- SSRF: MQTT -------------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


def subscriber(port: int, topic: str = "#"):
    received, subscribed = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, message: received.append(message.topic)
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    assert subscribed.wait(5)
    return client, received


def test_an_mqtt_channel_cannot_reach_an_internal_broker(world, broker, settings):
    client, received = subscriber(broker.port)
    try:
        settings.SENSORGRID_OUTBOUND_ALLOW = []
        for host in ("127.0.0.1", "localhost"):
            config = {"url": f"mqtt://{host}:{broker.port}", "topic": "ingest/x"}
            delivery = deliver(channel(world.org_a, "mqtt", config))
            assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == REFUSED
        time.sleep(0.3)
        assert received == []
    finally:
        client.loop_stop()
        client.disconnect()


@pytest.mark.parametrize("topic", ["$SYS/broker/x", "$CONTROL/dynamic-security/v1", "a/+/b", "#"])
def test_broker_topics_and_wildcards_are_refused(world, client_for, topic):
    response = client_for(world.alice).post(
        "/api/v1/alert-channels/",
        {"organization": world.org_a.pk, "name": "x", "kind": "mqtt",
         "config": {"url": "mqtt://broker.example.org", "topic": topic}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "topic" in response.json()["config"][0]


# -- Write-only secrets -----------------------------------------------------------------


@pytest.fixture
def password_broker(tmp_path):
    """Mosquitto that only lets ``sensor`` in, with the password ``s3cret-broker``."""
    server = Mosquitto(tmp_path / "mosquitto")
    passwords = tmp_path / "mosquitto" / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "sensor", "s3cret-broker"], check=True
    )
    passwords.chmod(0o644)
    conf = server.directory / "mosquitto.conf"
    conf.write_text(
        conf.read_text().replace(
            "allow_anonymous true", f"allow_anonymous false\npassword_file {passwords}"
        )
    )
    server.start()
    yield server
    server.stop()


def test_the_mqtt_password_is_write_only_and_kept_on_update(world, client_for, password_broker):
    alice, bob = client_for(world.alice), client_for(world.bob)
    url = f"mqtt://sensor:s3cret-broker@127.0.0.1:{password_broker.port}"
    created = alice.post(
        "/api/v1/alert-channels/",
        {"organization": world.org_a.pk, "name": "broker", "kind": "mqtt",
         "config": {"url": url, "topic": "alerts/a"}},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    for client in (alice, bob):  # the owner and the inspector
        for response in (client.get(f"/api/v1/alert-channels/{pk}/"),
                         client.get("/api/v1/alert-channels/")):  # fmt: skip
            assert "s3cret-broker" not in response.content.decode()
    assert "s3cret-broker" not in created.content.decode()
    shown = alice.get(f"/api/v1/alert-channels/{pk}/").json()["config"]
    assert shown == {
        "url": f"mqtt://sensor@127.0.0.1:{password_broker.port}",
        "topic": "alerts/a",
        "password_set": True,
    }

    # Sending back what was read, with another topic, keeps the password ...
    updated = alice.patch(
        f"/api/v1/alert-channels/{pk}/", {"config": {**shown, "topic": "alerts/b"}}, format="json"
    )
    assert updated.status_code == 200 and updated.json()["config"]["password_set"] is True
    hook = Channel.objects.get(pk=pk)
    client, received = subscriber_with_password(password_broker.port)
    try:
        delivery = deliver(hook)
        assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received == ["alerts/b"]
    finally:
        client.loop_stop()
        client.disconnect()

    # ... a new one replaces it, an empty one removes it.
    alice.patch(
        f"/api/v1/alert-channels/{pk}/", {"config": {**shown, "password": "new"}}, format="json"
    )
    assert Channel.objects.get(pk=pk).config["password"] == "new"
    cleared = alice.patch(
        f"/api/v1/alert-channels/{pk}/", {"config": {**shown, "password": ""}}, format="json"
    )
    assert cleared.json()["config"]["password_set"] is False
    assert "password" not in Channel.objects.get(pk=pk).config


def subscriber_with_password(port: int):
    received, subscribed = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set("sensor", "s3cret-broker")
    client.on_message = lambda c, u, message: received.append(message.topic)
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.subscribe("alerts/#", qos=1)
    client.loop_start()
    assert subscribed.wait(5)
    return client, received


def test_a_wrong_broker_password_is_a_clear_failure(world, password_broker):
    config = {"url": f"mqtt://sensor:wrong@127.0.0.1:{password_broker.port}", "topic": "a"}
    hook = channel(world.org_a, "mqtt", config)
    delivery = deliver(hook)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error.startswith("the broker refused the connection")


def test_the_webhook_secret_is_never_read_back(world, client_for, receiver):
    hook = webhook(world.org_a, receiver)
    for user in (world.alice, world.bob):
        for path in (f"/api/v1/alert-channels/{hook.pk}/", "/api/v1/alert-channels/"):
            assert hook.secret not in client_for(user).get(path).content.decode()


# -- The signature covers the idempotency key and the timestamp ------------------------


def test_a_receiver_verifies_the_signature_and_a_changed_key_or_time_breaks_it(world, receiver):
    hook = webhook(world.org_a, receiver)
    delivery = deliver(hook)
    assert delivery.status == DeliveryStatus.DELIVERED
    (request,) = receiver.requests
    key, header = request.headers["Idempotency-Key"], request.headers["X-SensorGrid-Signature"]
    timestamp = request.headers["X-SensorGrid-Timestamp"]
    assert header.startswith(f"t={timestamp},v1=")
    assert verify(hook.secret, key, request.body, header)
    assert receiver.processed == {key: 1}

    # A replay under a new idempotency key (which a receiver would process again) fails,
    # so does a replay with a fresh timestamp, a changed body or another secret.
    assert not verify(hook.secret, "8c7e0b9a-0000-4000-8000-000000000000", request.body, header)
    assert not verify(
        hook.secret, key, request.body, header.replace(f"t={timestamp}", f"t={int(timestamp) + 60}")
    )
    assert not verify(hook.secret, key, request.body + b" ", header)
    assert not verify("another secret", key, request.body, header)
    # An old request, even correctly signed, is refused after the tolerance (5 minutes).
    assert not verify(hook.secret, key, request.body, header, now=int(timestamp) + 301)
    assert json.loads(request.body) == {"event": "test"}


def test_the_admin_neither_shows_nor_loses_the_mqtt_password(world, client, settings):
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    hook = channel(
        world.org_a, "mqtt", {"url": "mqtt://sensor:s3cret-broker@broker.example.org", "topic": "a"}
    )
    client.force_login(world.root)  # an operator
    page = client.get(f"/admin/alerts/channel/{hook.pk}/change/")
    assert page.status_code == 200 and "s3cret-broker" not in page.content.decode()
    shown = page.context["adminform"].form.initial["config"]
    form = {"organization": world.org_a.pk, "name": "renamed", "kind": "mqtt", "enabled": "on"}
    saved = client.post(
        f"/admin/alerts/channel/{hook.pk}/change/",
        {**form, "config": json.dumps({**shown, "topic": "b"})},
    )
    assert saved.status_code == 302
    hook.refresh_from_db()
    assert hook.config == {
        "url": "mqtt://sensor@broker.example.org",
        "topic": "b",
        "password": "s3cret-broker",
    }
    refused = client.post(
        f"/admin/alerts/channel/{hook.pk}/change/",
        {**form, "config": json.dumps({"url": "mqtt://169.254.169.254", "topic": "b"})},
    )
    assert refused.status_code == 200 and "SENSORGRID_OUTBOUND_ALLOW" in refused.content.decode()
