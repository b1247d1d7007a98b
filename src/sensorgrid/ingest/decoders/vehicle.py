"""Vehicle telemetry, on MQTT topic ``device/data/<id>``.

One JSON object per vehicle and instant (or a list of them, or NDJSON)::

    {"device_id": "bus-17", "timestamp": "2026-11-23T08:00:00Z", "speed": 42.5,
     "location": {"lat": 48.137, "lon": 11.575, "alt": 519, "heading": 270},
     "telemetry": {"battery": 12.6, "battery_level": 87, "odometer": 120345.2}}

- ``speed`` (km/h) is required → ``speed``.
- ``device_id`` (string or integer) is the device id; without it, the device the topic
  names. When both are given they must agree, else the document is refused as
  ``forbidden-device``.
- ``timestamp``: ISO 8601 (no offset means UTC) or Unix epoch seconds or
  milliseconds; left out, the time of receipt. Unreadable → ``bad-timestamp``.
- ``location`` (optional object): ``lat``/``latitude`` → ``latitude``,
  ``lon``/``lng``/``longitude`` → ``longitude`` (both required when ``location`` is
  given), ``alt``/``altitude`` → ``altitude``, ``heading`` → ``heading``.
- ``telemetry`` (optional object): every field under its normalized name
  (``batteryLevel`` → ``battery_level``), so ``battery`` (V), ``battery_level`` (%) and
  ``heading`` (°) are stored as those quantities.
- Any other field, at the top level or in ``location``, is passed on under its
  normalized name too. A name that is not a registered quantity becomes an
  ``unknown-quantity`` dead letter: nothing is dropped without a trace.

A quantity is given once per document. When the same name comes again with another
value (``telemetry.heading`` besides ``location.heading``), the later one is passed on
as ``<section>_<name>`` (``telemetry_heading``) and becomes a dead letter instead of
being counted as a duplicate and lost. Values are not checked here: the pipeline
decides what is a plausible number.
"""

from collections.abc import Iterator
from itertools import count
from typing import Any

from sensorgrid import timestamps
from sensorgrid.ingest.decoders.base import JsonDecoder, Refused, normalized_name
from sensorgrid.ingest.envelope import Envelope, Message, Raw

#: quantity → the names a location field may have, first preferred
LOCATION: dict[str, tuple[str, ...]] = {
    "latitude": ("lat", "latitude"),
    "longitude": ("lon", "lng", "longitude"),
    "altitude": ("alt", "altitude"),
    "heading": ("heading",),
}
TOP_LEVEL = ("device_id", "timestamp", "speed", "location", "telemetry")


class Vehicle(JsonDecoder):
    key = "vehicle"
    description = 'Vehicle telemetry: {"device_id", "timestamp", "speed", "location", "telemetry"}'
    routes = ("device/data/{device}",)

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        return _message(index, document, raw, envelope.device)


def _message(index: int, document: object, raw: Raw, topic_device: str) -> Message:
    if not isinstance(document, dict):
        raise Refused("malformed", f"expected a JSON object, got {type(document).__name__}")
    device = _device(document.get("device_id"), topic_device)
    if document.get("speed") is None:
        raise Refused("malformed", '"speed" (km/h) is required', device)
    ts = None
    if document.get("timestamp") is not None:
        try:
            ts = timestamps.parse(document["timestamp"])
        except ValueError as exc:
            raise Refused("bad-timestamp", f'"timestamp": {exc}', device) from None
    values = _Values()
    values.put("speed", document["speed"], "")
    try:
        _location(document.get("location"), values)
        telemetry = _object(document.get("telemetry"), "telemetry")
    except ValueError as exc:
        raise Refused("malformed", str(exc), device) from None
    for name, value in telemetry.items():
        values.put(normalized_name(str(name)), value, "telemetry")
    for name, value in document.items():
        if name not in TOP_LEVEL:
            values.put(normalized_name(str(name)), value, "extra")
    return Message(index, device, ts, tuple(values.pairs), raw)


def _device(device_id: object, topic_device: str) -> str:
    if device_id is None:
        if not topic_device:
            raise Refused("malformed", '"device_id" is required (the topic names no device)')
        return topic_device
    if isinstance(device_id, bool) or not isinstance(device_id, str | int) or device_id == "":
        raise Refused("malformed", '"device_id" must be a non-empty string or an integer')
    device = str(device_id)
    if topic_device and device != topic_device:
        raise Refused(
            "forbidden-device",
            f"the payload names device {device!r} on the topic of {topic_device!r}",
            topic_device,
        )
    return device


def _object(value: object, name: str) -> dict[str, Any]:
    """An optional object field: {} when left out or null."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f'"{name}" must be an object, got {type(value).__name__}')
    return value


def _location(location: object, values: "_Values") -> None:
    if location is None:
        return
    location = _object(location, "location")
    found = {quantity: _field(location, names) for quantity, names in LOCATION.items()}
    if found["latitude"] is None or found["longitude"] is None:
        raise ValueError('"location" needs both "lat" and "lon" (or "lng")')
    for quantity, value in found.items():
        if value is not None:
            values.put(quantity, value, "location")
    known = {name for names in LOCATION.values() for name in names}
    for name, value in location.items():
        if name not in known:
            values.put(normalized_name(str(name)), value, "location")


def _field(location: dict[str, Any], names: tuple[str, ...]) -> object:
    """The value under the first of ``names``; every other one given must agree."""
    given = [(name, location[name]) for name in names if location.get(name) is not None]
    for name, value in given[1:]:
        if not _same(value, given[0][1]):
            raise ValueError(f'"location": "{given[0][0]}" and "{name}" disagree')
    return given[0][1] if given else None


class _Values:
    """(key, value) pairs with each key once; see the module docstring."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, object]] = []
        self._seen: dict[str, object] = {}

    def put(self, key: str, value: object, section: str) -> None:
        for candidate in _names(key, section):
            if candidate not in self._seen:
                self._seen[candidate] = value
                self.pairs.append((candidate, value))
                return
            if _same(self._seen[candidate], value):
                return


def _names(key: str, section: str) -> Iterator[str]:
    yield key
    yield f"{section}_{key}"
    for number in count(2):
        yield f"{section}_{key}_{number}"


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # true == 1 in Python, not in JSON
        return a is b
    return a == b
