"""MQTT alert channels over TLS (``mqtts://``) to a throwaway Mosquitto with a TLS
listener: the channel's own CA (PEM text) and client certificate get a delivery through;
the system's CAs, or a certificate for another name, do not."""

import pytest

from sensorgrid.alerts import deliveries
from sensorgrid.alerts.channels import mqtt as channel_mqtt
from sensorgrid.alerts.models import Channel, Delivery, DeliveryStatus
from tests.alerts.test_channels import open_alert
from tests.support.tls import Authority, mosquitto_tls


@pytest.fixture
def ca(tmp_path) -> Authority:
    return Authority.make(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path, ca):
    server = ca.issue("broker", hosts=("localhost",))
    broker = mosquitto_tls(tmp_path / "mosquitto", ca, server).start()
    yield broker
    broker.stop()


def deliver(world, config: dict) -> Delivery:
    channel = Channel.objects.create(
        organization=world.org_a,
        name="broker",
        kind="mqtt",
        config=channel_mqtt.validate_config(config),
    )
    alert = open_alert(world.org_a, world.node_a, channel)
    deliveries.send_due()
    return Delivery.objects.get(alert=alert)


def test_a_channel_with_its_own_ca_delivers_over_mqtts(world, ca, tls_broker):
    url = f"mqtts://localhost:{tls_broker.port}"
    delivery = deliver(world, {"url": url, "topic": "alerts/a", "ca": ca.cert.read_text()})
    assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error


def test_without_the_ca_or_for_another_name_the_certificate_is_refused(world, ca, tls_broker):
    by_system = deliver(world, {"url": f"mqtts://localhost:{tls_broker.port}", "topic": "a"})
    assert by_system.status == DeliveryStatus.PENDING
    assert "certificate is not valid" in by_system.last_error
    other_name = deliver(
        world,
        {"url": f"mqtts://127.0.0.1:{tls_broker.port}", "topic": "a", "ca": ca.cert.read_text()},
    )
    assert other_name.status == DeliveryStatus.PENDING
    assert "certificate is not valid" in other_name.last_error


def test_a_client_certificate_is_presented_when_the_broker_requires_one(world, tmp_path, ca):
    server = ca.issue("broker", hosts=("localhost",))
    client = ca.issue("alerts", client=True)
    broker = mosquitto_tls(tmp_path / "strict", ca, server, require_client_cert=True).start()
    try:
        base = {
            "url": f"mqtts://localhost:{broker.port}",
            "topic": "alerts/a",
            "ca": ca.cert.read_text(),
        }
        assert deliver(world, base).status == DeliveryStatus.PENDING  # no certificate
        with_cert = {
            **base,
            "client_cert": client.cert.read_text(),
            "client_key": client.key.read_text(),
        }
        delivery = deliver(world, with_cert)
        assert delivery.status == DeliveryStatus.DELIVERED, delivery.last_error
    finally:
        broker.stop()


def test_the_tls_settings_are_checked_and_the_key_stays_write_only(ca):
    cert = ca.issue("alerts", client=True)
    config = {
        "url": "mqtts://broker.example.org:8883",
        "topic": "alerts",
        "ca": ca.cert.read_text(),
        "client_cert": cert.cert.read_text(),
        "client_key": cert.key.read_text(),
    }
    stored = channel_mqtt.validate_config(config)
    shown = channel_mqtt.public_config(stored)
    assert "client_key" not in shown and shown["client_key_set"] is True
    assert shown["ca"] == config["ca"]  # a CA is no secret
    # An update that sends back what it read keeps the key.
    again = channel_mqtt.validate_config(shown, previous=stored)
    assert again["client_key"] == config["client_key"]
    refused = {
        "ca": {**config, "url": "mqtt://broker.example.org"},  # TLS settings without TLS
        "PEM": {**config, "ca": "not a certificate"},
        "no CA certificate": {**config, "ca": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END"},
        "needs its key": {k: v for k, v in config.items() if k != "client_key"},
        "not a certificate and its key": {**config, "client_key": ca.issue("x").key.read_text()},
    }
    for words, bad in refused.items():
        with pytest.raises(ValueError, match=words):
            channel_mqtt.validate_config(bad)
