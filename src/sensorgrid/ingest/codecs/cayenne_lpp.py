"""Cayenne Low Power Payload (LPP) v1, with the common extended types.

A frame is a sequence of ``channel (1 byte), type (1 byte), value (size of the type)``,
big-endian. The type table follows the myDevices reference and the extended types of
the ElectronicCats/TTN ``CayenneLPP`` library (sizes and resolutions in ``TYPES``).

Every type of the reference list is a quantity (issue 18, item 2): a frame of
digital inputs is as storable as one of temperatures. The quantity keys:

- illuminance → ``illuminance``, presence → ``motion`` (non-zero is 1),
  temperature → ``temperature``, humidity → ``humidity``, barometer → ``pressure``,
  accelerometer → ``acceleration_x/_y/_z`` (g), GPS → ``latitude``, ``longitude``,
  ``altitude``, altitude → ``altitude``, concentration → ``co2`` (ppm; in practice
  LPP concentration is sent by CO2 sensors), distance → ``distance`` (m),
  direction → ``heading`` (°);
- digital input/output → ``digital_input``/``digital_output`` (the byte), analog
  input/output → ``analog_input``/``analog_output`` (0.01, signed), generic sensor →
  ``generic_sensor``, voltage → ``voltage`` (V), current → ``current`` (A), frequency
  → ``frequency`` (Hz), percentage → ``percentage`` (%), power → ``power`` (W),
  energy → ``energy`` (kWh), unix time → ``unix_time`` (s), gyrometer →
  ``angular_velocity_x/_y/_z`` (°/s), colour → ``colour_r/_g/_b`` (0–255), switch →
  ``switch``. Voltage and percentage keep their own keys: LPP does not say whether
  they are a battery's, so they are not guessed into ``battery``/``battery_level``.

When a quantity appears on several channels, the lowest channel keeps the plain key
and the others are ``<key>_<channel>`` (``temperature``, ``temperature_5``). Such
suffixed keys must be registered as quantities, or the pipeline refuses them as
unknown-quantity. A later value for the same quantity and channel replaces an
earlier one.

An unknown type stops decoding with a ``CodecError``: its size is unknown, so the
rest of the frame cannot be read.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sensorgrid.ingest.codecs.base import Codec, CodecError
from sensorgrid.ingest.codecs.binary import Reader

INT24 = "int24"  # a signed big-endian 24-bit field (GPS); struct has no such format


def _per(divisor: int) -> Callable[[int], float]:
    # Division, not multiplication by 0.1: 2829 / 100 is exactly the float 28.29.
    return lambda raw: raw / divisor


def _flag(raw: int) -> float:
    return 1.0 if raw else 0.0


@dataclass(frozen=True, slots=True)
class Field:
    quantity: str
    fmt: str  # a struct format with byte order, or INT24
    convert: Callable[[int], float] = float


@dataclass(frozen=True, slots=True)
class LppType:
    name: str
    fields: tuple[Field, ...]


TYPES: dict[int, LppType] = {
    0: LppType("digital input", (Field("digital_input", ">B"),)),
    1: LppType("digital output", (Field("digital_output", ">B"),)),
    2: LppType("analog input", (Field("analog_input", ">h", _per(100)),)),
    3: LppType("analog output", (Field("analog_output", ">h", _per(100)),)),
    100: LppType("generic sensor", (Field("generic_sensor", ">I"),)),
    101: LppType("illuminance", (Field("illuminance", ">H"),)),
    102: LppType("presence", (Field("motion", ">B", _flag),)),
    103: LppType("temperature", (Field("temperature", ">h", _per(10)),)),
    104: LppType("humidity", (Field("humidity", ">B", _per(2)),)),
    113: LppType(
        "accelerometer",
        tuple(Field(f"acceleration_{axis}", ">h", _per(1000)) for axis in "xyz"),
    ),
    115: LppType("barometer", (Field("pressure", ">H", _per(10)),)),
    116: LppType("voltage", (Field("voltage", ">H", _per(100)),)),
    117: LppType("current", (Field("current", ">H", _per(1000)),)),
    118: LppType("frequency", (Field("frequency", ">I"),)),
    120: LppType("percentage", (Field("percentage", ">B"),)),
    121: LppType("altitude", (Field("altitude", ">h"),)),
    125: LppType("concentration", (Field("co2", ">H"),)),
    128: LppType("power", (Field("power", ">H"),)),
    130: LppType("distance", (Field("distance", ">I", _per(1000)),)),
    131: LppType("energy", (Field("energy", ">I", _per(1000)),)),
    132: LppType("direction", (Field("heading", ">H"),)),
    133: LppType("unix time", (Field("unix_time", ">I"),)),
    134: LppType(
        "gyrometer",
        tuple(Field(f"angular_velocity_{axis}", ">h", _per(100)) for axis in "xyz"),
    ),
    135: LppType("colour", tuple(Field(f"colour_{part}", ">B") for part in "rgb")),
    136: LppType(
        "GPS location",
        (
            Field("latitude", INT24, _per(10_000)),
            Field("longitude", INT24, _per(10_000)),
            Field("altitude", INT24, _per(100)),
        ),
    ),
    142: LppType("switch", (Field("switch", ">B"),)),
}


def decode_entries(data: bytes) -> list[tuple[int, str, float]]:
    """The frame's values as (channel, quantity key, value), in frame order."""
    reader = Reader(data)
    entries = []
    while reader.left():
        channel, type_byte = reader.read(">BB", "channel and type")
        lpp = TYPES.get(type_byte)
        if lpp is None:
            raise CodecError(
                reader.offset - 1,
                f"unknown Cayenne LPP type {type_byte} (0x{type_byte:02X}) on channel "
                f"{channel}: its size is unknown, so the rest of the frame cannot be read",
            )
        what = f"{lpp.name} (channel {channel})"
        for field in lpp.fields:
            if field.fmt == INT24:
                raw = reader.int24(what, byteorder="big")
            else:
                raw = reader.one(field.fmt, what)
            entries.append((channel, field.quantity, field.convert(raw)))
    return entries


def keyed(entries: list[tuple[int, str, float]]) -> dict[str, float]:
    """Apply the multi-channel rule: the lowest channel of a quantity keeps the plain key."""
    by_quantity: dict[str, dict[int, float]] = {}
    for channel, quantity, value in entries:
        by_quantity.setdefault(quantity, {})[channel] = value
    values = {}
    for quantity, by_channel in by_quantity.items():
        lowest = min(by_channel)
        for channel, value in sorted(by_channel.items()):
            values[quantity if channel == lowest else f"{quantity}_{channel}"] = value
    return values


class CayenneLpp(Codec):
    key = "cayenne_lpp"
    description = "Cayenne Low Power Payload v1 with the common extended types"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode an LPP frame; the port does not matter."""
        return keyed(decode_entries(data))
