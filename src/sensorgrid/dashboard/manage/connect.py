"""What a device needs to send to SensorGrid: the facts and examples of the Connect panel.

A new user's first ten minutes end at "how do I get data in?" (issue 19, item 5). The
panel answers with this node's own values, never a template to fill in: the broker
devices reach (``SENSORGRID_PUBLIC_MQTT_URL``, else the ingest service's broker without
its user), the node's broker user name, its topics from the ingest route table, the
absolute HTTP URL, the LoRaWAN webhooks, and commands that can be pasted into a shell
as they are. The credential is in them only in the answer that issued it; later pages
show a placeholder (only a digest is kept).
"""

import ipaddress
import json
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from sensorgrid.brokerauth import acl
from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.mqtt.routes import DEVICE, builtin
from sensorgrid.inventory.models import Node, Protocol
from sensorgrid.mqtt import broker

PLACEHOLDER = "<your credential>"
#: Values a device of each quantity plausibly sends, for the example payloads.
TYPICAL = {
    "co2": 612,
    "temperature": 21.5,
    "humidity": 41,
    "pressure": 1013.2,
    "pm2_5": 8.4,
    "pm10": 14,
    "noise": 48,
    "battery": 3.6,
    "battery_level": 87,
    "illuminance": 320,
    "speed": 42,
    "motion": 1,
}
#: At most this many quantities in an example payload: enough to show the shape.
EXAMPLE_QUANTITIES = 4


@dataclass(frozen=True, slots=True)
class Topic:
    topic: str
    decoder: str


@dataclass(frozen=True, slots=True)
class Mqtt:
    host: str
    port: int
    tls: bool
    username: str
    topics: tuple[Topic, ...]
    #: the setting whose broker URL cannot be read ("" if fine)
    error: str = ""
    #: another organization registered this device id first: the unbound routes' topics
    #: are its node's (brokerauth.acl)
    taken: bool = False

    @property
    def local_only(self) -> bool:
        """A loopback broker address: right on this machine, unreachable for a device."""
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"


@dataclass(frozen=True, slots=True)
class Panel:
    node: Node
    credential: str  # the real one (shown once) or PLACEHOLDER
    mqtt: Mqtt
    http_url: str
    lorawan: bool
    ttn_url: str
    ttn_device_url: str
    chirpstack_url: str
    values: dict[str, float]
    curl: str
    mosquitto_pub: str  # "" when no route carries this node's SensorGrid JSON
    ttn_curl: str

    @property
    def shows_credential(self) -> bool:
        return self.credential != PLACEHOLDER


def panel(request, node: Node, credential: str = "") -> Panel:
    """The Connect panel of ``node``; ``credential`` only in the answer that issued it."""
    credential = credential or PLACEHOLDER
    mqtt = mqtt_settings(node)
    http_url = request.build_absolute_uri(reverse("ingest"))
    ttn_url = request.build_absolute_uri(reverse("ingest-decoder", args=["ttn"]))
    ttn_device_url = request.build_absolute_uri(reverse("ingest-ttn-device", args=[node.device_id]))
    chirpstack_url = request.build_absolute_uri(reverse("ingest-decoder", args=["chirpstack"]))
    values = example_values(node)
    model = node.model
    return Panel(
        node=node,
        credential=credential,
        mqtt=mqtt,
        http_url=http_url,
        lorawan=model is not None and model.protocol == Protocol.LORAWAN,
        ttn_url=ttn_url,
        ttn_device_url=ttn_device_url,
        chirpstack_url=chirpstack_url,
        values=values,
        curl=curl_line(http_url, credential, {"device": node.device_id, "values": values}),
        mosquitto_pub=mosquitto_pub_line(mqtt, credential, values),
        ttn_curl=curl_line(
            ttn_device_url, credential, {"uplink_message": {"decoded_payload": values}}
        ),
    )


def public_broker() -> broker.Broker:
    """Where devices reach the broker: the public URL, else the ingest service's."""
    url = settings.SENSORGRID_PUBLIC_MQTT_URL or settings.SENSORGRID_MQTT_URL
    return broker.parse(url)


def mqtt_settings(node: Node) -> Mqtt:
    """The broker facts; a bad broker URL is said on the panel, never a 500 (the answer
    that shows a new credential must not fail)."""
    topics = device_topics(node)
    taken = not acl.is_first(node)
    try:
        found = public_broker()
    except ConfigurationError:
        # Only the variable's name: the parser's message quotes the URL, and the ingest
        # service's URL holds its password.
        name = (
            "SENSORGRID_PUBLIC_MQTT_URL"
            if settings.SENSORGRID_PUBLIC_MQTT_URL
            else "SENSORGRID_MQTT_URL"
        )
        return Mqtt("", 0, False, node.broker_username, topics, error=name, taken=taken)
    return Mqtt(found.host, found.port, found.tls, node.broker_username, topics, taken=taken)


def device_topics(node: Node) -> tuple[Topic, ...]:
    """The topics this node publishes to, with the decoder that reads each.

    The broker's own answer (brokerauth.acl, issue 20): every route of the route table
    with a ``{device}`` level, filled with the node's device id; routes bound to another
    organization are not the node's, nor the unbound ones if another organization
    registered the id first. A level that stays a wildcard (``kpi/<id>/#``) means any
    topic there. The SensorGrid JSON topic first.
    """
    try:
        routes = acl.device_routes()
    except ConfigurationError:  # the ingest service refuses to start with it anyway
        routes = [route for route in builtin() if DEVICE in route.pattern.split("/")]
    topics: dict[str, Topic] = {}
    first = acl.is_first(node)
    for route in routes:
        for topic in acl.filters_for_device(
            node.device_id, [route], node.organization_id, unbound=first
        ):
            topics.setdefault(topic, Topic(topic, route.decoder))
    return tuple(sorted(topics.values(), key=lambda t: t.decoder != "json"))


def example_values(node: Node) -> dict[str, float]:
    """A plausible payload: the node model's quantities (CO2 first), else CO2 and temperature."""
    model = node.model
    quantities = list(model.quantities.all()) if model is not None else []
    if not quantities:
        return {"co2": TYPICAL["co2"], "temperature": TYPICAL["temperature"]}
    quantities.sort(key=lambda q: (q.key != "co2", q.key not in TYPICAL, q.key))
    values = {}
    for quantity in quantities[:EXAMPLE_QUANTITIES]:
        if quantity.key in TYPICAL:
            values[quantity.key] = TYPICAL[quantity.key]
        elif quantity.min_value is not None and quantity.max_value is not None:
            values[quantity.key] = round((quantity.min_value + quantity.max_value) / 2, 1)
        else:
            values[quantity.key] = max(quantity.min_value or 0, 1)
    return values


def quoted(text: str) -> str:
    """``text`` as one word of a POSIX shell, always in single quotes (easy to read)."""
    return "'" + text.replace("'", "'\\''") + "'"


def payload(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False)


def curl_line(url: str, credential: str, document: dict) -> str:
    return (
        f"curl -X POST {quoted(url)} -H {quoted('Authorization: Bearer ' + credential)} "
        f"-H 'Content-Type: application/json' -d {quoted(payload(document))}"
    )


def wildcard(topic: str) -> bool:
    return any(level in ("+", "#") for level in topic.split("/"))


def mosquitto_pub_line(mqtt: Mqtt, credential: str, values: dict[str, float]) -> str:
    json_topics = [t for t in mqtt.topics if t.decoder == "json" and not wildcard(t.topic)]
    if not json_topics or mqtt.error:
        return ""
    tls = " --capath /etc/ssl/certs" if mqtt.tls else ""
    return (
        f"mosquitto_pub -h {quoted(mqtt.host)} -p {mqtt.port}{tls} -q 1 "
        f"-u {quoted(mqtt.username)} -P {quoted(credential)} "
        f"-t {quoted(json_topics[0].topic)} -m {quoted(payload({'values': values}))}"
    )
