"""The platform's broker, read from settings (``Broker`` itself: sensorgrid.mqtt.broker)."""

import dataclasses
import socket

from django.conf import settings

from sensorgrid.mqtt.broker import Broker, parse


def from_settings(
    url: str = "", ca_file: str = "", cert_file: str = "", key_file: str = ""
) -> Broker:
    """The broker at ``url`` (default SENSORGRID_MQTT_URL) with the settings' TLS files
    (or these) and, when the URL names no user, SENSORGRID_MQTT_USERNAME/_PASSWORD."""
    broker = parse(
        url or settings.SENSORGRID_MQTT_URL,
        ca_file or settings.SENSORGRID_MQTT_CA_FILE,
        cert_file or settings.SENSORGRID_MQTT_CERT_FILE,
        key_file or settings.SENSORGRID_MQTT_KEY_FILE,
    )
    if broker.username is None and settings.SENSORGRID_MQTT_USERNAME:
        broker = dataclasses.replace(
            broker,
            username=settings.SENSORGRID_MQTT_USERNAME,
            password=settings.SENSORGRID_MQTT_PASSWORD or None,
        )
    return broker


def default_client_id(instance: int = 0) -> str:
    """Stable per host and instance, so a restarted ingester resumes its session."""
    return f"sensorgrid-ingest-{socket.gethostname()}-{instance}"[:64]
