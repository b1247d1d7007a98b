"""The SensorGrid JSON format (docs/ingest.md).

``{"device": "<device id>", "ts": "<ISO 8601 or epoch s/ms>", "values": {"co2": 612}}``;
one object, a list of them, or NDJSON. ``ts`` may be left out: time of receipt.
On a topic that names the device (``sensorgrid/<device>/up``) ``device`` may be
left out too, and must match the topic if given.
"""

from sensorgrid.ingest import timestamps
from sensorgrid.ingest.decoders.base import Decoder, parse_json_documents
from sensorgrid.ingest.envelope import Decoded, Envelope, Message, Raw, Refusal


class SensorGridJson(Decoder):
    key = "json"
    description = 'SensorGrid JSON: {"device", "ts", "values": {quantity: value}}'

    def decode(self, envelope: Envelope) -> Decoded:
        messages, refusals = [], []
        for index, (document, raw) in enumerate(parse_json_documents(envelope)):
            try:
                messages.append(self._message(index, document, raw, envelope.device))
            except _Mismatch as exc:
                refusals.append(Refusal(index, "forbidden-device", str(exc), raw, envelope.device))
            except ValueError as exc:
                device = document.get("device") if isinstance(document, dict) else ""
                refusals.append(Refusal(index, "malformed", str(exc), raw, str(device or "")[:200]))
        return Decoded(tuple(messages), tuple(refusals))

    def _message(self, index: int, document: object, raw: Raw, topic_device: str) -> Message:
        if not isinstance(document, dict):
            raise ValueError(f"expected a JSON object, got {type(document).__name__}")
        device = document.get("device", topic_device or None)
        if topic_device and device != topic_device:
            raise _Mismatch(f"the payload names device {device!r} on the topic of {topic_device!r}")
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


class _Mismatch(ValueError):
    pass
