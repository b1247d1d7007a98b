"""Elsys ERS / ELT / EMS sensors: a sequence of ``type (1 byte), value`` fields.

Sizes and scales follow Elsys' published generic decoder (``elsys.js``, as in the
TTN device repository), big-endian unless said otherwise:

| type | field | size | quantity |
|---|---|---|---|
| 0x01 | temperature, int16 / 10 °C | 2 | ``temperature`` |
| 0x02 | humidity, uint8 % | 1 | ``humidity`` |
| 0x03 | acceleration x, y, z, int8, 63 = 1 g | 3 | ``acceleration_x/_y/_z`` (g) |
| 0x04 | light, uint16 lx | 2 | ``illuminance`` |
| 0x05 | PIR motion count, uint8 | 1 | ``motion_count`` (events in the interval) |
| 0x06 | CO2, uint16 ppm | 2 | ``co2`` |
| 0x07 | supply voltage, uint16 mV | 2 | ``battery`` (V) |
| 0x09 | GPS: lat, long, int24 little-endian, 1e-4 ° | 6 | ``latitude``, ``longitude`` |
| 0x0A | pulse input 1, uint16 count since last frame | 2 | ``pulse_count`` |
| 0x0C | external temperature, int16 / 10 °C | 2 | ``temperature_external`` |
| 0x0E | distance, uint16 mm | 2 | ``distance`` (m) |
| 0x10 | IR temperature: internal, external int16 / 10 °C | 4 | ``temperature_external`` (2nd) |
| 0x12 | water leak, uint8 | 1 | ``water_leak`` (1 if non-zero) |
| 0x14 | pressure, uint32 / 1000 hPa | 4 | ``pressure`` |
| 0x15 | sound peak, average, uint8 dB | 2 | ``noise`` (the average) |
| 0x16 | pulse input 2, uint16 | 2 | ``pulse_count_2`` |
| 0x19 | external temperature 2, int16 / 10 °C | 2 | ``temperature_external_2`` |
| 0x1C | TVOC, uint16 ppb | 2 | ``tvoc`` |

Read and skipped: 0x08 analog 1 (2), 0x0B pulse 1 absolute (4), 0x0D digital (1),
0x0F acceleration motion count (1), 0x11 occupancy state (1), 0x13 Grid-EYE (65),
0x17 pulse 2 absolute (4), 0x18 analog 2 (2), 0x1A digital 2 (1), 0x1B analog µV (4),
0x3D debug (4). 0x3E starts a settings block: the rest of the frame holds settings,
no measurements.

GPS follows Elsys' current decoder (little-endian, sign-extended, 1e-4 °); older
copies of ``elsys.js`` return the raw big-endian integers instead.

Several 0x19 fields in one frame (several 1-wire probes) become
``temperature_external_2``, ``_3``, ``_4`` … in frame order. Keys with a number
suffix must be registered as quantities, or the pipeline refuses them as
unknown-quantity. Unknown types raise ``CodecError``: their size is unknown.
"""

from collections.abc import Callable

from sensorgrid.ingest.codecs.base import Codec, CodecError
from sensorgrid.ingest.codecs.binary import Reader

Values = dict[str, float]

SETTINGS = 0x3E
ACC_PER_G = 63


def _one(key: str, fmt: str, divisor: int = 1) -> Callable[[Reader, Values], None]:
    def read(reader: Reader, values: Values) -> None:
        values[key] = reader.one(fmt, key) / divisor

    return read


def _skip(size: int, what: str) -> Callable[[Reader, Values], None]:
    def read(reader: Reader, values: Values) -> None:
        reader.skip(size, what)

    return read


def _acceleration(reader: Reader, values: Values) -> None:
    for axis, raw in zip("xyz", reader.read(">bbb", "acceleration"), strict=True):
        values[f"acceleration_{axis}"] = raw / ACC_PER_G


def _gps(reader: Reader, values: Values) -> None:
    values["latitude"] = reader.int24("GPS latitude", byteorder="little") / 10_000
    values["longitude"] = reader.int24("GPS longitude", byteorder="little") / 10_000


def _ir_temperature(reader: Reader, values: Values) -> None:
    _internal, external = reader.read(">hh", "IR temperature")
    values["temperature_external"] = external / 10


def _water_leak(reader: Reader, values: Values) -> None:
    values["water_leak"] = 1.0 if reader.one(">B", "water leak") else 0.0


def _sound(reader: Reader, values: Values) -> None:
    _peak, average = reader.read(">BB", "sound")
    values["noise"] = float(average)


def _external_temperature_2(reader: Reader, values: Values) -> None:
    number = 2
    while f"temperature_external_{number}" in values:
        number += 1
    key = f"temperature_external_{number}"
    values[key] = reader.one(">h", key) / 10


FIELDS: dict[int, Callable[[Reader, Values], None]] = {
    0x01: _one("temperature", ">h", 10),
    0x02: _one("humidity", ">B"),
    0x03: _acceleration,
    0x04: _one("illuminance", ">H"),
    # A count of PIR events, not a 0/1 state (issue 18, item 6).
    0x05: _one("motion_count", ">B"),
    0x06: _one("co2", ">H"),
    0x07: _one("battery", ">H", 1000),
    0x08: _skip(2, "analog input 1"),
    0x09: _gps,
    0x0A: _one("pulse_count", ">H"),
    0x0B: _skip(4, "absolute pulse count 1"),
    0x0C: _one("temperature_external", ">h", 10),
    0x0D: _skip(1, "digital input"),
    0x0E: _one("distance", ">H", 1000),
    0x0F: _skip(1, "acceleration motion count"),
    0x10: _ir_temperature,
    0x11: _skip(1, "occupancy"),
    0x12: _water_leak,
    0x13: _skip(65, "Grid-EYE"),
    0x14: _one("pressure", ">I", 1000),
    0x15: _sound,
    0x16: _one("pulse_count_2", ">H"),
    0x17: _skip(4, "absolute pulse count 2"),
    0x18: _skip(2, "analog input 2"),
    0x19: _external_temperature_2,
    0x1A: _skip(1, "digital input 2"),
    0x1B: _skip(4, "analog input µV"),
    0x1C: _one("tvoc", ">H"),
    0x3D: _skip(4, "debug"),
}


class Elsys(Codec):
    key = "elsys"
    description = "Elsys ERS / ELT / EMS type-value payload"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode an Elsys frame; the port does not matter."""
        reader = Reader(data)
        values: Values = {}
        while reader.left():
            kind = reader.one(">B", "type")
            if kind == SETTINGS:
                break
            read = FIELDS.get(kind)
            if read is None:
                raise CodecError(
                    reader.offset - 1,
                    f"unknown Elsys type 0x{kind:02X}: its size is unknown, "
                    "so the rest of the frame cannot be read",
                )
            read(reader, values)
        return values
