"""The platform's broker, read from settings (``Broker`` itself: sensorgrid.mqtt.broker)."""

import socket

from django.conf import settings

from sensorgrid.mqtt.broker import Broker, parse


def from_settings(url: str = "") -> Broker:
    return parse(
        url or settings.SENSORGRID_MQTT_URL,
        settings.SENSORGRID_MQTT_CA_FILE,
        settings.SENSORGRID_MQTT_CERT_FILE,
        settings.SENSORGRID_MQTT_KEY_FILE,
    )


def default_client_id(instance: int = 0) -> str:
    """Stable per host and instance, so a restarted ingester resumes its session."""
    return f"sensorgrid-ingest-{socket.gethostname()}-{instance}"[:64]
