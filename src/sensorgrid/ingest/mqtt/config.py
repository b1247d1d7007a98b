"""The ingest service's options and route table, read from settings and the database."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from sensorgrid.env import ConfigurationError
from sensorgrid.ingest import decoders
from sensorgrid.ingest.mqtt import broker
from sensorgrid.ingest.mqtt.routes import Route, RouteError, RouteTable, builtin
from sensorgrid.mqtt import Broker


@dataclass(frozen=True, slots=True)
class Options:
    broker: Broker
    client_id: str
    protocol: str = "5"  # "5" or "3.1.1"
    session_expiry: int = 7 * 86400
    shared_group: str = ""
    inflight: int = 10_000
    #: MQTT 5 Maximum Packet Size announced in CONNECT (None: no limit announced)
    max_packet_size: int | None = None
    batch_size: int = 2_000
    batch_seconds: float = 0.2
    metrics_port: int = 0


def options(url: str = "", instance: int = 0, **overrides: Any) -> Options:
    if settings.SENSORGRID_MQTT_PROTOCOL not in ("5", "3.1.1"):
        raise ConfigurationError(
            f"SENSORGRID_MQTT_PROTOCOL={settings.SENSORGRID_MQTT_PROTOCOL!r}: use 5 or 3.1.1"
        )
    values: dict[str, Any] = dict(
        broker=broker.from_settings(url),
        client_id=settings.SENSORGRID_MQTT_CLIENT_ID or broker.default_client_id(instance),
        protocol=settings.SENSORGRID_MQTT_PROTOCOL,
        session_expiry=settings.SENSORGRID_MQTT_SESSION_EXPIRY,
        shared_group=settings.SENSORGRID_MQTT_SHARED_GROUP,
        inflight=max(1, min(settings.SENSORGRID_MQTT_INFLIGHT, 65_535)),
        max_packet_size=max_packet_size(settings.SENSORGRID_MQTT_MAX_MESSAGE_BYTES),
        batch_size=max(1, settings.SENSORGRID_MQTT_BATCH_SIZE),
        batch_seconds=max(0.001, settings.SENSORGRID_MQTT_BATCH_MS / 1000),
        metrics_port=settings.SENSORGRID_INGEST_METRICS_PORT,
    )
    values.update({key: value for key, value in overrides.items() if value is not None})
    return Options(**values)


#: Room for a PUBLISH packet's fixed header, topic and properties beside its payload
PACKET_OVERHEAD = 16 * 1024
#: The largest packet MQTT can carry (a Maximum Packet Size above it means no limit)
MQTT_MAX_PACKET = 268_435_455 + 5


def max_packet_size(max_message_bytes: int) -> int | None:
    """The Maximum Packet Size for messages up to ``max_message_bytes`` (0: no limit)."""
    if max_message_bytes <= 0:
        return None
    return min(max_message_bytes + PACKET_OVERHEAD, MQTT_MAX_PACKET)


def source_of(decoder: str) -> str:
    return decoders.source_of(decoder, "mqtt")


def route_table() -> RouteTable:
    """Enabled admin rows first, then the settings' routes (or the built-in ones)."""
    from sensorgrid.ingest.models import MqttRoute

    rows = MqttRoute.objects.filter(enabled=True).values_list(
        "pattern", "decoder", "organization_id", "pk"
    )
    routes = [
        Route(pattern, decoder, source_of(decoder), organization, pk)
        for pattern, decoder, organization, pk in rows
    ]
    routes += _settings_routes()
    known = set(decoders.available())
    unknown = sorted({route.decoder for route in routes} - known)
    if unknown:
        raise ConfigurationError(
            f"routes name unknown decoders {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    try:
        return RouteTable(routes)
    except RouteError as exc:
        raise ConfigurationError(f"bad MQTT route: {exc}") from None


def _settings_routes() -> list[Route]:
    if not settings.SENSORGRID_MQTT_ROUTES:
        return builtin()
    routes = []
    for item in settings.SENSORGRID_MQTT_ROUTES:
        pattern, equals, decoder = item.rpartition("=")
        if not equals or not pattern or not decoder:
            raise ConfigurationError(
                f"SENSORGRID_MQTT_ROUTES item {item!r}: write it as topic/filter=decoder"
            )
        routes.append(Route(pattern, decoder, source_of(decoder)))
    return routes
