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
passed on for the node model's codec. Each ``rx_metadata`` entry is a reception.
Other application messages (join accepts, downlink events, locations) carry
nothing to store and are skipped. The Things Stack leaves out fields that are
zero, so a missing ``f_cnt`` or ``f_port`` is unknown rather than an error.
"""

from sensorgrid.ingest import timestamps
from sensorgrid.ingest.decoders import lorawan
from sensorgrid.ingest.decoders.base import JsonDecoder
from sensorgrid.ingest.envelope import Envelope, Frame, Message, Radio, Raw

#: The gateway id under which Packet Broker forwards receptions of other networks.
PACKET_BROKER = "packetbroker"


class TheThingsStack(JsonDecoder):
    key = "ttn"
    description = "The Things Stack v3 uplink message (TTN, TTI)"
    source = "lorawan"
    routes = ("v3/+/devices/+/up",)

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message | None:
        return _message(index, document, raw)

    def device_hint(self, document: object) -> str:
        device = lorawan.dig(document, "end_device_ids", "dev_eui") or lorawan.dig(
            document, "end_device_ids", "device_id"
        )
        return str(device or "")[:200]


def _message(index: int, document: object, raw: Raw) -> Message | None:
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    ids = document.get("end_device_ids")
    if not isinstance(ids, dict):
        raise ValueError('"end_device_ids" must be an object (is this a TTS v3 message?)')
    uplink = document.get("uplink_message")
    if uplink is None:
        return None  # join accept, downlink event, location, …: no measurements
    if not isinstance(uplink, dict):
        raise ValueError('"uplink_message" must be an object')
    device, also = lorawan.device_ids(ids.get("dev_eui"), ids.get("device_id"))
    received = document.get("received_at") or uplink.get("received_at")
    try:
        ts = timestamps.parse(received) if received is not None else None
    except ValueError as exc:
        raise ValueError(f'"received_at": {exc}') from None
    port = lorawan.integer(uplink.get("f_port"))
    frame = None
    if uplink.get("frm_payload") is not None:
        frame = Frame(port, lorawan.frame_bytes(uplink["frm_payload"], "frm_payload"))
    settings = uplink.get("settings")
    frequency = lorawan.integer(lorawan.dig(settings, "frequency"))
    spreading_factor = lorawan.integer(
        lorawan.dig(settings, "data_rate", "lora", "spreading_factor")
    )
    counter = lorawan.integer(uplink.get("f_cnt"))
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
                )
            )
    return Message(
        index,
        device,
        ts,
        lorawan.formatter_values(uplink.get("decoded_payload")),
        raw,
        also=also,
        frame=frame,
        radio=tuple(radio),
        lenient=True,
    )


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
