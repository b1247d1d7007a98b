"""Decentlab DL-xxx sensors: the common protocol and one codec per product.

Every Decentlab frame is::

    version (uint8, = 2) · device id (uint16) · flags (uint16) · words (uint16 …)

all big-endian. Bit *n* of the flags says that sensor group *n* of the product is in
the frame; each group is a fixed number of words, in group order. The frame does not
name the product, and different products give frames of the same length and flags,
so a node model names its product's codec: ``decentlab_dl_pm``,
``decentlab_dl_sht35``, ``decentlab_dl_lp8p``. Adding a product is adding a table.

Groups, word counts and conversions follow Decentlab's published decoders
(github.com/decentlab/decentlab-decoders); words that map to no quantity are read and
skipped. A flag bit for a group the product does not have, or bytes left over after
the selected groups, mean the frame is from another product: ``CodecError``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sensorgrid.ingest.codecs.base import Codec, CodecError
from sensorgrid.ingest.codecs.binary import Reader

PROTOCOL_VERSION = 2
HEADER = ">BHH"

Words = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    words: int
    values: tuple[tuple[str, Callable[[Words], float]], ...]  # (quantity key, conversion)


def _battery(x: Words) -> float:
    return x[0] / 1000  # mV → V


def _sht21_temperature(x: Words) -> float:
    return 175.72 * x[0] / 65536 - 46.85


def _sht21_humidity(x: Words) -> float:
    return 125 * x[1] / 65536 - 6


BATTERY = Group("battery voltage", 1, (("battery", _battery),))

# DL-PM: particulate matter, temperature, humidity and barometric pressure.
# Particle group words: PM1.0, PM2.5, PM4, PM10 mass (/10 µg/m³), typical particle
# size (nm), PM0.5 … PM10 number concentrations (/10 per cm³).
DL_PM = (
    BATTERY,
    Group(
        "particulate matter",
        10,
        (
            ("pm1", lambda x: x[0] / 10),
            ("pm2_5", lambda x: x[1] / 10),
            ("pm10", lambda x: x[3] / 10),
        ),
    ),
    Group(
        "air temperature and humidity",
        2,
        (("temperature", _sht21_temperature), ("humidity", _sht21_humidity)),
    ),
    Group("barometric pressure", 1, (("pressure", lambda x: x[0] * 2 / 100),)),  # Pa → hPa
)

# DL-SHT35: air temperature and humidity (Sensirion SHT35).
DL_SHT35 = (
    Group(
        "air temperature and humidity",
        2,
        (
            ("temperature", lambda x: 175 * x[0] / 65535 - 45),
            ("humidity", lambda x: 100 * x[1] / 65535),
        ),
    ),
    BATTERY,
)

# DL-LP8P: CO2 (Senseair LP8), temperature, humidity and barometric pressure.
# Barometer group: sensor temperature, pressure (×2 Pa). CO2 group: CO2, CO2 low-pass
# filtered (both − 32768 ppm), sensor temperature, two capacitor voltages, status,
# two raw IR readings.
DL_LP8P = (
    Group(
        "air temperature and humidity",
        2,
        (("temperature", _sht21_temperature), ("humidity", _sht21_humidity)),
    ),
    Group("barometer", 2, (("pressure", lambda x: x[1] * 2 / 100),)),  # Pa → hPa
    Group("CO2", 8, (("co2", lambda x: float(x[0] - 32768)),)),
    BATTERY,
)


def decode_frame(data: bytes, product: str, groups: tuple[Group, ...]) -> dict[str, float]:
    """Decode a Decentlab v2 frame with the sensor groups of one product."""
    reader = Reader(data)
    version, _device_id, flags = reader.read(HEADER, "header (version, device id, flags)")
    if version != PROTOCOL_VERSION:
        raise CodecError(0, f"Decentlab protocol version {version}, expected {PROTOCOL_VERSION}")
    if flags >> len(groups):
        raise CodecError(
            3,
            f"flags 0x{flags:04X} select sensor groups that {product} does not have "
            f"(it has {len(groups)}): is this a {product} frame?",
        )
    values = {}
    for bit, group in enumerate(groups):
        if flags & (1 << bit):
            words = reader.read(f">{group.words}H", f"{group.name} ({group.words} words)")
            for key, convert in group.values:
                values[key] = convert(words)
    if reader.left():
        raise CodecError(
            reader.offset,
            f"{reader.left()} byte(s) left after the sensor groups the flags select: "
            f"is this a {product} frame?",
        )
    return values


class DlPm(Codec):
    key = "decentlab_dl_pm"
    description = "Decentlab DL-PM particulate matter, temperature, humidity, pressure"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode a DL-PM frame; the port does not matter."""
        return decode_frame(data, "DL-PM", DL_PM)


class DlSht35(Codec):
    key = "decentlab_dl_sht35"
    description = "Decentlab DL-SHT35 air temperature and humidity"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode a DL-SHT35 frame; the port does not matter."""
        return decode_frame(data, "DL-SHT35", DL_SHT35)


class DlLp8p(Codec):
    key = "decentlab_dl_lp8p"
    description = "Decentlab DL-LP8P CO2, temperature, humidity, pressure"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode a DL-LP8P frame; the port does not matter."""
        return decode_frame(data, "DL-LP8P", DL_LP8P)
