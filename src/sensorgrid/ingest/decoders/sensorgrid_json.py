"""The SensorGrid JSON format (docs/ingest.md).

``{"device": "<device id>", "ts": "<ISO 8601 or epoch s/ms>", "values": {"co2": 612}}``;
one object, a list of them, or NDJSON. ``ts`` may be left out: time of receipt.
On a topic that names the device (``sensorgrid/<device>/up``) ``device`` may be
left out too, and must match the topic if given.
"""

from sensorgrid import timestamps
from sensorgrid.ingest.decoders.base import JsonDecoder, Refused, json_storable
from sensorgrid.ingest.envelope import Envelope, Message, Raw


class SensorGridJson(JsonDecoder):
    key = "json"
    description = 'SensorGrid JSON: {"device", "ts", "values": {quantity: value}}'
    routes = ("sensorgrid/{device}/up",)

    def storable(self, envelope: Envelope) -> bool:
        return json_storable(envelope)  # device and keys are the documents' strings

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        topic_device = envelope.device
        if not isinstance(document, dict):
            raise ValueError(f"expected a JSON object, got {type(document).__name__}")
        device = document.get("device", topic_device or None)
        if topic_device and device != topic_device:
            detail = f"the payload names device {device!r} on the topic of {topic_device!r}"
            raise Refused("forbidden-device", detail, topic_device)
        if not isinstance(device, str) or not device:
            raise ValueError('"device" must be a non-empty string (the node\'s device id)')
        values = document.get("values")
        if not isinstance(values, dict) or not values:
            raise ValueError('"values" must be a non-empty object of quantity: number')
        ts = None
        if document.get("ts") is not None:
            try:
                ts = timestamps.parse(document["ts"])
            except ValueError as exc:
                raise ValueError(f'"ts": {exc}') from None
        return Message(index, device, ts, tuple(values.items()), raw)

    def device_hint(self, document: object) -> str:
        device = document.get("device") if isinstance(document, dict) else ""
        return str(device or "")[:200]
