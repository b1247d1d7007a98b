"""The ingest body of Clair's managair, so its devices can send to SensorGrid unchanged.

managair takes one sample per request, as JSON:API or as plain attributes::

    {"data": {"type": "Sample", "attributes": {"node": "<id>", "timestamp_s": 1606400000,
     "co2_ppm": 612, "temperature_celsius": 21.4, "rel_humidity_percent": 40}}}

The node may also be given as a JSON:API relationship. ``measurement_status`` "E"
marks a measurement error: such a sample is refused with the reason device-error.
"""

from typing import Any

from sensorgrid import timestamps
from sensorgrid.ingest.decoders.base import JsonDecoder, Refused
from sensorgrid.ingest.envelope import Envelope, Message, Raw

FIELDS = {
    "co2_ppm": "co2",
    "temperature_celsius": "temperature",
    "rel_humidity_percent": "humidity",
}


class Managair(JsonDecoder):
    key = "managair"
    description = "Clair managair sample (JSON:API or plain attributes)"

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        attributes = _attributes(document)
        device = _node(document, attributes)
        if attributes.get("measurement_status") == "E":
            raise Refused("device-error", "measurement_status E", device)
        if "timestamp_s" not in attributes:
            raise ValueError('"timestamp_s" is required')
        ts = timestamps.parse(attributes["timestamp_s"])
        values = tuple(
            (quantity, attributes[name])
            for name, quantity in FIELDS.items()
            if attributes.get(name) is not None
        )
        if not values:
            raise ValueError(f"no measurement: expected one of {', '.join(FIELDS)}")
        return Message(index, device, ts, values, raw)


def _attributes(document: object) -> dict[str, Any]:
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        document = document["data"].get("attributes")
    if not isinstance(document, dict):
        raise ValueError("expected a Sample object (JSON:API data.attributes or plain)")
    return document


def _node(document: object, attributes: dict[str, Any]) -> str:
    node = attributes.get("node") or attributes.get("node_ref_id")
    if node is None:
        node = _dig(document, "data", "relationships", "node", "data", "id")
    if not isinstance(node, str | int) or isinstance(node, bool) or node == "":
        raise ValueError('"node" must be the node\'s id')
    return str(node)


def _dig(value: object, *path: str) -> object:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
