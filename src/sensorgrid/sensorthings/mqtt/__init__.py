"""The MQTT extension of SensorThings 1.1 (OGC 18-088 §14): receive new and updated
entities on STA topics, create Observations by publishing (docs/sensorthings.md).

``topics`` parses topics, ``feed`` hands committed creations and updates to the servers,
``deliver`` reads them through the walls, ``create`` is MQTT Create, ``server`` speaks MQTT.
Enabled with ``SENSORGRID_STA_MQTT_PORT``; the web process (``sensorgrid serve``) runs the
server (asgi.py).
"""

from urllib.parse import urlsplit

from django.conf import settings

SPEC = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
RECEIVE = SPEC + "receive-updates-via-mqtt/receive-updates"
CREATE = SPEC + "create-observations-via-mqtt/observations-creation"


def enabled() -> bool:
    return bool(settings.SENSORGRID_STA_MQTT_PORT)


def endpoints(base: str) -> list[str]:
    """The URLs clients reach the MQTT endpoint at: ``SENSORGRID_STA_MQTT_URL`` (comma-
    separated), else ``mqtt://`` the host of ``base`` (the service root) and the port."""
    configured = [u.strip() for u in settings.SENSORGRID_STA_MQTT_URL.split(",") if u.strip()]
    if configured:
        return configured
    host = urlsplit(base).hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return [f"mqtt://{host}:{settings.SENSORGRID_STA_MQTT_PORT}"]


def server_settings(base: str) -> dict:
    """The service document's conformance classes and settings of the extension."""
    if not enabled():
        return {"conformance": [], "settings": {}}
    where = {"endpoints": endpoints(base)}
    return {"conformance": [CREATE, RECEIVE], "settings": {CREATE: where, RECEIVE: where}}


def link_base() -> str:
    """The service root URL in the messages' links (``SENSORGRID_BASE_URL``)."""
    root = settings.SENSORGRID_BASE_URL.rstrip("/") or "http://localhost:8000"
    return f"{root}/sta/v1.1/"
