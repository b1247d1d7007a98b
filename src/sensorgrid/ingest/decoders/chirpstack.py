"""ChirpStack uplink events: v4 (key ``chirpstack``) and v3 (key ``chirpstack_v3``).

v4, JSON marshaler, MQTT ``application/<id>/device/<devEUI>/event/up`` or the HTTP
integration with ``?event=up``::

    {"time": "2026-05-25T13:42:11.412+00:00", "fCnt": 10, "fPort": 1, "data": "AQI=",
     "deviceInfo": {"devEui": "0101010101010101", "deviceName": "garden-1", …},
     "object": {"temperature": 21.5},
     "rxInfo": [{"gatewayId": "0016c001f153a14c", "rssi": -36, "snr": 10.5}],
     "txInfo": {"frequency": 868100000,
                "modulation": {"lora": {"spreadingFactor": 7, "bandwidth": 125000}}}}

v3, MQTT ``application/<id>/device/<devEUI>/rx`` (HTTP ``?event=up``): ``devEUI``,
``fCnt``, ``fPort``, ``data``, ``object`` (legacy ``json_v3`` marshaler) or
``objectJSON`` (a JSON string, ``json`` marshaler), ``rxInfo[{gatewayID, rssi,
loRaSNR}]``, ``txInfo {frequency, dr or loRaModulationInfo.spreadingFactor}``; EUIs
are hex in the legacy marshaler and base64 in the protobuf one; both are accepted.
The time is ``publishedAt``, else the first gateway's ``time``, else receipt.

The device is the node of the sender's organization whose device id is the DevEUI (in
any case), else the one whose device id is ChirpStack's device name. Values come
from ``object`` (see ``decoders.lorawan``); the frame ``data`` is passed on for the
node model's codec. Each ``rxInfo`` entry is a reception.
"""

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sensorgrid import timestamps
from sensorgrid.ingest.decoders import lorawan
from sensorgrid.ingest.decoders.base import JsonDecoder
from sensorgrid.ingest.envelope import Decoded, Envelope, FramePayload, Message, Radio, Raw
from sensorgrid.inventory.device_ids import canonical

#: Integration events besides ``up``; they carry no measurements (docs/lorawan.md).
OTHER_EVENTS = ("join", "status", "ack", "txack", "log", "location", "integration", "error")


class ChirpStackV4(JsonDecoder):
    key = "chirpstack"
    description = "ChirpStack v4 uplink event (JSON)"
    source = "lorawan"
    routes = ("application/+/device/+/event/up",)
    webhook_events = OTHER_EVENTS

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        document = _object(document)
        info = document.get("deviceInfo")
        if not isinstance(info, dict):
            raise ValueError('"deviceInfo" must be an object (is this a ChirpStack v4 event?)')
        device, also = lorawan.device_ids(info.get("devEui"), info.get("deviceName"))
        ts = _time(document.get("time"), "time")
        tx = document.get("txInfo")
        frequency = lorawan.integer(lorawan.dig(tx, "frequency"))
        spreading_factor = lorawan.integer(lorawan.dig(tx, "modulation", "lora", "spreadingFactor"))
        counter = lorawan.integer(document.get("fCnt"))
        radio = [
            _radio(gateway, rx, "snr", frequency, spreading_factor, counter, ts)
            for rx in _list(document.get("rxInfo"))
            if (gateway := _text(rx.get("gatewayId")))
        ]
        return _message(index, raw, device, also, ts, document.get("object"), document, radio)

    def decode(self, envelope: Envelope) -> Decoded:
        return lorawan.unreadable_frames_refused(super().decode(envelope), "data")

    def device_hint(self, document: object) -> str:
        return _hint(lorawan.dig(document, "deviceInfo", "devEui"))


class ChirpStackV3(JsonDecoder):
    key = "chirpstack_v3"
    description = "ChirpStack v3 uplink event (json or legacy json_v3 marshaler)"
    source = "lorawan"
    routes = ("application/+/device/+/rx",)
    webhook_events = OTHER_EVENTS

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        document = _object(document)
        eui = lorawan.eui_hex(document.get("devEUI"), "devEUI")
        device, also = lorawan.device_ids(eui, document.get("deviceName"))
        rx_info = _list(document.get("rxInfo"))
        published = document.get("publishedAt")
        if published is not None:
            ts = _time(published, "publishedAt")
        else:
            first = next((rx.get("time") for rx in rx_info if rx.get("time")), None)
            ts = _time(first, "rxInfo[].time")
        tx = document.get("txInfo")
        frequency = lorawan.integer(lorawan.dig(tx, "frequency"))
        spreading_factor = lorawan.integer(lorawan.dig(tx, "loRaModulationInfo", "spreadingFactor"))
        if spreading_factor is None:
            data_rate = lorawan.dig(tx, "dr")
            data_rate = data_rate if data_rate is not None else document.get("dr")
            spreading_factor = lorawan.spreading_factor_of_data_rate(data_rate, frequency)
        counter = lorawan.integer(document.get("fCnt"))
        radio = [
            _radio(gateway, rx, "loRaSNR", frequency, spreading_factor, counter, ts)
            for rx in rx_info
            if (gateway := _gateway_v3(rx.get("gatewayID")))
        ]
        return _message(index, raw, device, also, ts, _decoded_object(document), document, radio)

    def decode(self, envelope: Envelope) -> Decoded:
        return lorawan.unreadable_frames_refused(super().decode(envelope), "data")

    def device_hint(self, document: object) -> str:
        return _hint(lorawan.dig(document, "devEUI"))


def _hint(eui: object) -> str:
    """A refused uplink's DevEUI as its node stores it: lower-case hex, even from base64.

    The owner looks for the device's dead letters by the id they registered; v3's json
    marshaler writes the EUI as base64 (``AgICAgICAgI=``), which nobody would search for.
    """
    if not isinstance(eui, str):
        return ""
    try:
        return canonical(lorawan.eui_hex(eui, "devEUI"))
    except ValueError:
        return eui[:200]  # not an EUI: kept as sent, so it can still be found


def _object(document: object) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    return document


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value[:100] if isinstance(value, str) else ""


def _gateway_v3(value: object) -> str:
    """A v3 gateway id as lower-case hex (as ChirpStack shows it), base64 or not."""
    try:
        return lorawan.eui_hex(value, "gatewayID").lower()
    except ValueError:
        return _text(value)  # not an EUI: keep what the network server said


def _time(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return timestamps.parse(value)
    except ValueError as exc:
        raise ValueError(f'"{field}": {exc}') from None


def _frame(document: dict[str, Any], field: str) -> FramePayload | None:
    port = lorawan.integer(document.get("fPort"))
    return lorawan.frame_or_unreadable(port, document.get(field), field)


def _decoded_object(document: dict[str, Any]) -> object:
    """``object`` (legacy marshaler) or ``objectJSON`` (a JSON string, json marshaler)."""
    if document.get("object") is not None:
        return document["object"]
    text = document.get("objectJSON")
    if not text:
        return None
    try:
        return json.loads(text) if isinstance(text, str) else None
    except (json.JSONDecodeError, RecursionError):
        raise ValueError('"objectJSON" is not valid JSON') from None


def _radio(
    gateway: str,
    rx: dict[str, Any],
    snr_field: str,
    frequency: int | None,
    spreading_factor: int | None,
    counter: int | None,
    ts: datetime | None,
) -> Radio:
    return Radio(
        gateway=gateway,
        rssi=lorawan.real(rx.get("rssi")),
        snr=lorawan.real(rx.get(snr_field)),
        frequency=frequency,
        spreading_factor=spreading_factor,
        frame_counter=counter,
        ts=ts,
        gateway_position=lorawan.position(rx.get("location")),
    )


def _message(
    index: int,
    raw: Raw,
    device: str,
    also: tuple[str, ...],
    ts: datetime | None,
    decoded: object,
    document: dict[str, Any],
    radio: list[Radio],
) -> Message:
    """An uplink's message: the server's decoded values, else the frame for the codec.

    Its decoded ``latitude``/``longitude``, if any, is where the device was: each
    reception carries it for the coverage map."""
    values = lorawan.formatter_values(decoded)
    located = lorawan.uplink_position(values)
    if located is not None:
        radio = [replace(r, position=located) for r in radio]
    return Message(
        index,
        device,
        ts,
        values,
        raw,
        also=also,
        frame=_frame(document, "data"),
        radio=tuple(radio),
    )
