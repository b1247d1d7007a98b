"""InfluxDB line protocol (decoder ``influx_line``): what Telegraf and InfluxDB clients send.

The HTTP endpoints ``/api/v2/write`` and ``/write`` (``ingest/api/influx.py``) build
the envelope; its ``topic`` carries what the decoder needs besides the body, so a dead
letter replays the same way: ``/api/v2/write?bucket=…&precision=ns[&device=…]``. It has
no built-in MQTT route; a route to it (``telegraf/#=influx_line``) takes what Telegraf's
``outputs.mqtt`` publishes with ``data_format = "influx"`` (nanoseconds).

One line is one message::

    airquality,device=room-101,site=school co2=612i,temperature=21.4 1795420800000000000

- **The node** is named by the first of the tags ``SENSORGRID_INFLUX_DEVICE_TAGS``
  the line has (by default ``device``, ``device_id``, ``node``, then Telegraf's
  ``host``); a line without any is the node of the credential (``device=`` in the
  topic), else refused.
- **Quantities** are the field keys as they are; a field named ``value`` takes the
  measurement's name (``co2,device=x value=612``). With the bucket
  ``measurement_field`` every quantity is ``<measurement>_<field>`` (``value``: the
  measurement alone). Other tags, and the measurement otherwise, are not used.
- **Values**: floats, integers (``i``), unsigned integers (``u``) and booleans
  (stored as 1 and 0). A string field is passed on, and the pipeline refuses that
  field alone (``invalid-value``); the line's other fields are stored.
- **Time**: the line's timestamp in the request's precision (ns, us, ms, s; v1 also m
  and h), stored to the microsecond; a line without one takes the time of receipt.

Parsing is ``line_protocol_parser`` (C; InfluxDB's escaping rules: ``\\,`` ``\\=``
``\\ `` in keys and tag values, ``\\"`` and ``\\\\`` in strings). Lines are split on
newlines except inside a quoted string field, as InfluxDB does. A line that cannot be
parsed is refused alone (``malformed``), with InfluxDB's ``unable to parse '<line>'``.
Blank lines and ``#`` comments are skipped; line numbers count every line of the body.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs

from django.conf import settings

# The parser ships no type information.
from line_protocol_parser import LineFormatError, parse_line  # type: ignore[import-untyped]

from sensorgrid.ingest.decoders.base import Decoder
from sensorgrid.ingest.envelope import Decoded, DecodeError, Envelope, Message, Refusal

#: The bucket (v1: database) whose quantities are ``<measurement>_<field>``.
MEASUREMENT_FIELD = "measurement_field"
#: Precision → (seconds per unit as a fraction: multiplier, divisor); ns is cut to µs first.
PRECISIONS = {
    "ns": (1, 1_000_000),
    "us": (1, 1_000_000),
    "ms": (1, 1_000),
    "s": (1, 1),
    "m": (60, 1),
    "h": (3600, 1),
}
_SHOWN = 120  # characters of a refused line quoted in its detail


class InfluxLine(Decoder):
    key = "influx_line"
    description = "InfluxDB line protocol (Telegraf, InfluxDB client libraries)"
    content = "line-protocol"  # posted to /api/v2/write and /write (ingest/api/influx.py)

    def storable(self, envelope: Envelope) -> bool:
        # The body is UTF-8 (checked) and the syntax has no escape that makes a character,
        # so only a NUL byte, in the body or the topic's ``device=`` (``%00``), is one.
        return b"\x00" not in envelope.payload and not any(
            nul in envelope.topic for nul in ("\x00", "%00")
        )

    def decode(self, envelope: Envelope) -> Decoded:
        try:
            envelope.payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("malformed", f"the body is not UTF-8 text: {exc}") from None
        # Over MQTT (a route to this decoder, e.g. Telegraf's outputs.mqtt) the topic is
        # no URL: the defaults apply (ns, field names, no node of the credential).
        query = parse_qs(envelope.topic.partition("?")[2]) if envelope.source == "http" else {}
        precision = query.get("precision", ["ns"])[0]
        if precision not in PRECISIONS:
            raise DecodeError("malformed", f"unknown precision {precision!r}")
        prefixed = query.get("bucket", [""])[0] == MEASUREMENT_FIELD
        default_device = query.get("device", [""])[0]
        device_tags = settings.SENSORGRID_INFLUX_DEVICE_TAGS
        messages, refusals = [], []
        for number, line in lines(envelope.payload):
            index = number - 1
            try:
                point = parse_line(line)
            except LineFormatError as exc:
                refusals.append(Refusal(index, "malformed", _unparsable(line, exc), line))
                continue
            if point is None:  # a comment
                continue
            tags = point["tags"]
            device = default_device
            for tag in device_tags:
                if tag in tags:
                    device = tags[tag]
                    break
            if not device:
                detail = f"no tag names the node ({', '.join(device_tags)})"
                refusals.append(Refusal(index, "malformed", detail, line))
                continue
            try:
                ts = _time(point["time"], precision)
            except (OverflowError, OSError, ValueError):  # beyond datetime's years
                detail = f"timestamp {point['time']} ({precision}) is out of range"
                refusals.append(Refusal(index, "bad-timestamp", detail, line, device))
                continue
            values = _values(point["measurement"], point["fields"], prefixed)
            messages.append(Message(index, device, ts, values, line))
        if not messages and not refusals:
            raise DecodeError("malformed", "writing requires points: the body holds no line")
        return Decoded(tuple(messages), tuple(refusals))


def lines(payload: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for every non-blank line; a newline inside a quoted string
    field does not end its line (it counts for the numbers of the lines after it)."""
    physical = payload.split(b"\n")
    if b'"' not in payload:  # no string field anywhere: every newline ends a line
        for number, line in enumerate(physical, start=1):
            line = line.rstrip(b"\r")
            if line.strip():
                yield number, line
        return
    number = 0
    while number < len(physical):
        start = number
        line = physical[number]
        number += 1
        # Quotes are rare (string fields): only then is the field set scanned, and each
        # byte once: rescanning the joined line for every newline inside an open string
        # cost quadratic time (hours of CPU for a 1 MB body of newlines).
        if b'"' in line:
            scan = _Quotes()
            scan.feed(line)
            parts = [line]
            while scan.open and number < len(physical):
                scan.feed(b"\n" + physical[number])
                parts.append(physical[number])
                number += 1
            line = b"\n".join(parts)
        line = line.rstrip(b"\r")
        if line.strip():
            yield start + 1, line


class _Quotes:
    """Whether a string field is still open, fed a line piece by piece: before the field
    set (the first unescaped space) a backslash escapes the next byte; in it, a double
    quote opens or closes a string, in which a backslash escapes the next byte."""

    __slots__ = ("escaped", "fields", "open")

    def __init__(self) -> None:
        self.fields = self.open = self.escaped = False

    def feed(self, data: bytes) -> None:
        fields, quoted, escaped = self.fields, self.open, self.escaped
        for byte in data:
            if escaped:
                escaped = False
            elif not fields:
                if byte == 0x5C:  # backslash
                    escaped = True
                elif byte == 0x20:
                    fields = True
            elif quoted and byte == 0x5C:
                escaped = True
            elif byte == 0x22:  # double quote
                quoted = not quoted
        self.fields, self.open, self.escaped = fields, quoted, escaped


def _time(value: int | None, precision: str) -> datetime | None:
    if value is None:
        return None
    multiplier, divisor = PRECISIONS[precision]
    if precision == "ns":
        value //= 1000  # to whole microseconds, so the float below is exact to 1 µs
    # Integer units over a power of ten: fromtimestamp rounds to the exact microsecond
    # (to the year 2255), three times faster than adding a timedelta to the epoch.
    return datetime.fromtimestamp(value * multiplier / divisor, UTC)


def _values(
    measurement: str, fields: dict[str, object], prefixed: bool
) -> tuple[tuple[str, object], ...]:
    # The parser gives the fields last first: back in the line's order, so refusals
    # name them as the line does.
    pairs = tuple(reversed(fields.items()))
    if prefixed or "value" in fields or any(type(v) is bool for _, v in pairs):
        return tuple(
            (
                measurement
                if field == "value"
                else f"{measurement}_{field}"
                if prefixed
                else field,
                float(value) if isinstance(value, bool) else value,
            )
            for field, value in pairs
        )
    return pairs  # the usual line: field keys are the quantities, numbers as they are


def _unparsable(line: bytes, exc: Exception) -> str:
    text = line.decode("utf-8")
    shown = text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
    return f"unable to parse {shown!r}: {exc}"
