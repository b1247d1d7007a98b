"""The Things Stack v3 (The Things Network, The Things Industries) uplink messages.

The JSON of the MQTT topic ``v3/<app>@<tenant>/devices/<device>/up`` and of a
webhook's uplink message (docs/lorawan.md)::

    {"end_device_ids": {"device_id": "eui-70b3…", "dev_eui": "70B3D57ED005B89A",
                        "application_ids": {"application_id": "weather"}},
     "received_at": "2026-05-25T13:42:11.412Z",
     "uplink_message": {"f_port": 2, "f_cnt": 1834, "frm_payload": "ASsBKAAA",
                        "decoded_payload": {"temperature_1": 29.9},
                        "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-1"},
                                         "rssi": -68, "snr": 9.2}],
                        "settings": {"data_rate": {"lora": {"spreading_factor": 7}},
                                     "frequency": "868100000"}}}

The device is the node of the sender's organization whose device id is the DevEUI (in
any case), else the one whose device id is the stack's ``device_id``. Values come
from ``decoded_payload`` (see ``decoders.lorawan``); the frame ``frm_payload`` is
passed on for the node model's codec. Each ``rx_metadata`` entry is a reception, with
the gateway's ``location`` if it has one; the uplink's ``locations`` (or the decoded
``latitude``/``longitude``) say where the device was (docs/lorawan.md, "Radio view").
Other application messages (join accepts, downlink events, locations) carry
nothing to store and are skipped. The Things Stack leaves out fields that are
zero, so a missing ``f_cnt`` or ``f_port`` is unknown rather than an error.

The same uplink also arrives wrapped (issue 18, item 1):

- a Storage Integration result, ``{"result": {…uplink…}}``, one per line (NDJSON,
  as its HTTP API streams them) or in a JSON array;
- an event of the event stream or the console's export, ``{"name":
  "as.up.data.forward", "data": {…uplink…}}``, also inside a ``result`` (the events
  API streams them so); other events carry no measurements and are skipped;
- a webhook filtered to ``up.uplink_message``: no ``end_device_ids``, so the device
  is the one the webhook path names (``/api/v1/ingest/ttn/devices/{{.devID}}/``, or
  ``{{.devEUI}}``: ``Envelope.device``) or, over MQTT, the ``{device}`` level of the
  topic ``v3/{app}@{tenant}/devices/{device}/up``.

A ``frm_payload`` that is not base64 costs the frame only: the message keeps its
decoded fields and receptions, and the frame is a ``malformed`` refusal of its own.
"""

import re
from typing import Any

from sensorgrid import timestamps
from sensorgrid.ingest.decoders import lorawan
from sensorgrid.ingest.decoders.base import JsonDecoder
from sensorgrid.ingest.envelope import Decoded, Envelope, Message, Radio, Raw
from sensorgrid.inventory.device_ids import canonical

#: The event that carries an uplink, with the values of the payload formatter.
UPLINK_EVENT = "as.up.data.forward"
_TOPIC = re.compile(r"v3/[^/]+/devices/([^/]+)/up")

#: The gateway id under which Packet Broker forwards receptions of other networks.
PACKET_BROKER = "packetbroker"


class TheThingsStack(JsonDecoder):
    key = "ttn"
    description = "The Things Stack v3 uplink message (TTN, TTI)"
    source = "lorawan"
    routes = ("v3/+/devices/+/up",)

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message | None:
        uplink = unwrapped(document)
        if uplink is None:
            return None  # another event: nothing to store
        return _message(index, uplink, raw, named_device(envelope))

    def decode(self, envelope: Envelope) -> Decoded:
        return lorawan.unreadable_frames_refused(super().decode(envelope), "frm_payload")

    def device_hint(self, document: object) -> str:
        uplink = unwrapped(document)
        ids = lorawan.dig(uplink, "end_device_ids")
        eui = lorawan.dig(ids, "dev_eui")
        if isinstance(eui, str) and eui:
            return canonical(eui)[:200]
        device = lorawan.dig(ids, "device_id")
        return device[:200] if isinstance(device, str) else ""


def unwrapped(document: object) -> object:
    """The uplink message inside a Storage Integration result or an event, else itself.

    None for an event other than ``as.up.data.forward`` (nothing to store).
    """
    if isinstance(document, dict) and isinstance(document.get("result"), dict):
        document = document["result"]  # Storage Integration, events API stream
    is_event = (
        isinstance(document, dict)
        and isinstance(document.get("name"), str)
        and "data" in document
        and "end_device_ids" not in document
    )
    if is_event:
        assert isinstance(document, dict)
        return document["data"] if document["name"] == UPLINK_EVENT else None
    return document


def named_device(envelope: Envelope) -> str:
    """The device the webhook path or the MQTT topic names, "" if none."""
    if envelope.device:
        return envelope.device
    match = _TOPIC.fullmatch(envelope.topic)
    return match.group(1) if match else ""


def _message(index: int, document: object, raw: Raw, named: str) -> Message | None:
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    ids = document.get("end_device_ids")
    uplink = document.get("uplink_message")
    if ids is None and named and isinstance(uplink, dict):
        ids = {}  # a webhook filtered to the uplink: the path or topic names the device
    if not isinstance(ids, dict):
        raise ValueError('"end_device_ids" must be an object (is this a TTS v3 message?)')
    if uplink is None:
        return None  # join accept, downlink event, location, …: no measurements
    if not isinstance(uplink, dict):
        raise ValueError('"uplink_message" must be an object')
    device, also = _device_ids(ids, named)
    received = document.get("received_at") or uplink.get("received_at")
    try:
        ts = timestamps.parse(received) if received is not None else None
    except ValueError as exc:
        raise ValueError(f'"received_at": {exc}') from None
    port = lorawan.integer(uplink.get("f_port"))
    frame = lorawan.frame_or_unreadable(port, uplink.get("frm_payload"), "frm_payload")
    settings = uplink.get("settings")
    frequency = lorawan.integer(lorawan.dig(settings, "frequency"))
    spreading_factor = lorawan.integer(
        lorawan.dig(settings, "data_rate", "lora", "spreading_factor")
    )
    counter = lorawan.integer(uplink.get("f_cnt"))
    values = lorawan.formatter_values(uplink.get("decoded_payload"))
    locations = uplink.get("locations")
    located = lorawan.uplink_position(
        values, *(_located(locations) if isinstance(locations, dict) else ())
    )
    radio = []
    metadata = uplink.get("rx_metadata")
    for rx in metadata if isinstance(metadata, list) else ():
        gateway = _gateway(rx)
        if gateway:
            rssi = lorawan.real(rx.get("rssi"))
            radio.append(
                Radio(
                    gateway=gateway,
                    rssi=rssi if rssi is not None else lorawan.real(rx.get("channel_rssi")),
                    snr=lorawan.real(rx.get("snr")),
                    frequency=frequency,
                    spreading_factor=spreading_factor,
                    frame_counter=counter,
                    ts=ts,
                    gateway_position=lorawan.position(rx.get("location")),
                    position=located,
                )
            )
    return Message(
        index,
        device,
        ts,
        values,
        raw,
        also=also,
        frame=frame,
        radio=tuple(radio),
    )


def _located(locations: dict[str, Any]) -> list[object]:
    """The uplink's ``locations``, the device's own fix (``frm-payload``) first."""
    return [locations.get("frm-payload"), *locations.values()]


def _device_ids(ids: dict[str, Any], named: str) -> tuple[str, tuple[str, ...]]:
    """The uplink's own ids first; the device the path or topic names after them."""
    eui, device_id = ids.get("dev_eui"), ids.get("device_id")
    if not eui and not device_id and named:
        eui, device_id = (named, None) if _EUI.fullmatch(named) else (None, named)
        return lorawan.device_ids(eui, device_id)
    device, also = lorawan.device_ids(eui, device_id)
    if named and canonical(named) not in (device, *also):
        also = (*also, canonical(named)[:200])
    return device, also


_EUI = re.compile(r"[0-9A-Fa-f]{16}")


def _gateway(rx: object) -> str:
    """The gateway's id; for Packet Broker, the forwarding network's gateway."""
    if not isinstance(rx, dict):
        return ""
    gateway = lorawan.dig(rx, "gateway_ids", "gateway_id") or lorawan.dig(rx, "gateway_ids", "eui")
    if gateway == PACKET_BROKER:
        broker = rx.get("packet_broker")
        gateway = (
            lorawan.dig(broker, "forwarder_gateway_id")
            or lorawan.dig(broker, "forwarder_gateway_eui")
            or gateway
        )
    return gateway[:100] if isinstance(gateway, str) else ""
