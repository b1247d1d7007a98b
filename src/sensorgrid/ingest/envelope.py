"""What enters the pipeline and what decoders make of it. Pure data, no I/O."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: The part of a payload a message came from: the bytes as received, or a parsed JSON
#: value that is serialized again only if it has to be kept (most never are).
Raw = bytes | dict[str, Any] | list[Any] | str | int | float | bool | None


def raw_bytes(raw: Raw) -> bytes:
    return raw if isinstance(raw, bytes) else json.dumps(raw).encode()


@dataclass(frozen=True, slots=True)
class Authority:
    """Who sent an envelope, as proven by its credential.

    A node credential writes only for its node (``node_id``); an organization
    credential (``node_id`` None) writes for any node of the organization.
    """

    organization_id: int
    node_id: int | None = None
    #: what proved it ("node", "ingest-key", "mqtt-route") and that row's id: kept on
    #: dead letters, so a replay runs with exactly this authority (docs/ingest.md)
    credential: str = ""
    credential_id: int | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """One payload as it arrived: the unit that is dead-lettered if nothing else fits."""

    source: str  # telemetry.models.Source
    topic: str  # MQTT topic or HTTP endpoint
    payload: bytes
    received_at: datetime
    content_type: str = ""
    authority: Authority | None = None
    #: the device the topic or endpoint names (an MQTT route's ``{device}``), "" if none
    device: str = ""


@dataclass(frozen=True, slots=True)
class FramePayload:
    """A device's binary application payload (LoRaWAN FRMPayload) and its port.

    The pipeline decodes it with the codec of the node's model
    (``sensorgrid.ingest.codecs``) when the message carries no values. Named for
    LoRaWAN's FRMPayload: a frame alone is a WebSocket frame (``sensorgrid.live``).
    """

    port: int | None
    data: bytes


@dataclass(frozen=True, slots=True)
class Radio:
    """One gateway's reception of an uplink (LoRaWAN radio diagnostics).

    Stored as a ``telemetry.Reception`` for the node the message resolves to. ``ts``
    None means the message's time; every field but the gateway may be unknown.
    ``gateway_position`` is where the network server says the gateway stands (kept as
    the gateway's last known position, ``telemetry.Gateway``); ``position`` is where the
    device was when it sent the uplink, if the message says (the coverage map).
    """

    gateway: str
    rssi: float | None = None
    snr: float | None = None
    frequency: int | None = None  # Hz
    spreading_factor: int | None = None
    frame_counter: int | None = None
    ts: datetime | None = None
    gateway_position: tuple[float, float] | None = None  # (latitude, longitude)
    position: tuple[float, float] | None = None  # (latitude, longitude)


@dataclass(frozen=True, slots=True)
class Message:
    """One device's values at one instant, as a decoder read them.

    Values are not validated yet: a decoder passes on what the device said, and the
    pipeline decides what is plausible. ``ts`` None means "when it was received".
    ``raw`` is the part of the payload this message came from (kept on refusal).

    Network-server decoders also fill:

    - ``also``: other ids of the same device, tried in order when no node has
      ``device`` (a DevEUI in other spellings, the network server's device id);
    - ``frame``: the binary payload, decoded with the node model's codec when the
      model has one (it decides over ``values``, the network server's decoding) or
      when ``values`` is empty (``frames.with_values``);
    - ``radio``: the gateways that heard the uplink.

    Keys of ``values`` that name no registered quantity are refused by name
    (``unknown-quantity``), from a network server's formatter as from a device.
    """

    index: int
    device: str
    ts: datetime | None
    values: tuple[tuple[str, object], ...]
    raw: Raw
    also: tuple[str, ...] = ()
    frame: FramePayload | None = None
    radio: tuple[Radio, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A part of a payload a decoder could not turn into a message."""

    index: int
    reason: str  # telemetry.models.Reason
    detail: str
    raw: Raw
    device: str = ""


@dataclass(frozen=True, slots=True)
class Decoded:
    messages: tuple[Message, ...] = ()
    refusals: tuple[Refusal, ...] = field(default=())


class DecodeError(Exception):
    """The whole payload is unusable (not JSON, wrong shape, …)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
