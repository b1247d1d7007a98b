"""What enters the pipeline and what decoders make of it. Pure data, no I/O."""

import json
from dataclasses import dataclass, field
from datetime import datetime

#: The part of a payload a message came from: the bytes as received, or a parsed JSON
#: value that is serialized again only if it has to be kept (most never are).
Raw = bytes | dict | list | str | int | float | bool | None


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


@dataclass(frozen=True, slots=True)
class Envelope:
    """One payload as it arrived: the unit that is dead-lettered if nothing else fits."""

    source: str  # telemetry.models.Source
    topic: str  # MQTT topic or HTTP endpoint
    payload: bytes
    received_at: datetime
    content_type: str = ""
    authority: Authority | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One device's values at one instant, as a decoder read them.

    Values are not validated yet: a decoder passes on what the device said, and the
    pipeline decides what is plausible. ``ts`` None means "when it was received".
    ``raw`` is the part of the payload this message came from (kept on refusal).
    """

    index: int
    device: str
    ts: datetime | None
    values: tuple[tuple[str, object], ...]
    raw: Raw


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
