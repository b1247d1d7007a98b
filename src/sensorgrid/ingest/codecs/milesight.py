"""Milesight AM300 series (AM307, AM308, AM319): ``channel id, channel type, value``.

Values are little-endian. The channel table follows Milesight's published decoder
(``AM300_TTN.js`` in Milesight-IoT/SensorDecoders):

| id, type | field | size | quantity |
|---|---|---|---|
| 01 75 | battery, uint8 % | 1 | ``battery_level`` |
| 03 67 | temperature, int16 / 10 °C | 2 | ``temperature`` |
| 04 68 | humidity, uint8 / 2 % | 1 | ``humidity`` |
| 05 00 | PIR, 1 = triggered | 1 | ``motion`` |
| 07 7D | CO2, uint16 ppm | 2 | ``co2`` |
| 09 73 | pressure, uint16 / 10 hPa | 2 | ``pressure`` |
| 0A 7D | HCHO, uint16 / 100 mg/m³ | 2 | ``hcho`` |
| 0B 7D | PM2.5, uint16 µg/m³ | 2 | ``pm2_5`` |
| 0C 7D | PM10, uint16 µg/m³ | 2 | ``pm10`` |
| 0D 7D | O3, uint16 / 100 ppm | 2 | ``o3`` (µg/m³, at 20 °C and 1013.25 hPa) |

Read and skipped: 06 CB light level (1; a 0–5 level, not lux), 08 7D TVOC (2; its unit
changed between firmware versions: a raw level in the v1 decoder, an IAQ index × 100
in v2, so it is neither ``tvoc`` in ppb nor the ``voc`` index), 08 E6 TVOC in µg/m³
(2; v2 firmware), 0E 01 buzzer (1), and the device-information channels FF 01 (1),
FF 09 (2), FF 0A (2), FF 0B (1), FF 0F (1), FF 16 (8), FF FF (2).

Any other channel raises ``CodecError``: its size is unknown. That includes history
records (20 CE), whose size differs by model.
"""

from collections.abc import Callable

from sensorgrid.ingest.codecs.base import Codec, CodecError
from sensorgrid.ingest.codecs.binary import Reader

# 1 ppm of ozone (48.00 g/mol) in µg/m³ at 20 °C and 1013.25 hPa (molar volume
# 24.055 L/mol), the reference conditions of EU air-quality reporting.
O3_UG_PER_PPM = 48.00 / 24.055 * 1000

# (channel id, channel type) → (quantity or None to skip, struct format, conversion)
CHANNELS: dict[tuple[int, ...], tuple[str | None, str, Callable[[int], float]]] = {
    (0x01, 0x75): ("battery_level", "<B", float),
    (0x03, 0x67): ("temperature", "<h", lambda raw: raw / 10),
    (0x04, 0x68): ("humidity", "<B", lambda raw: raw / 2),
    (0x05, 0x00): ("motion", "<B", lambda raw: 1.0 if raw == 1 else 0.0),
    (0x06, 0xCB): (None, "<B", float),  # light level 0–5
    (0x07, 0x7D): ("co2", "<H", float),
    (0x08, 0x7D): (None, "<H", float),  # TVOC level / IAQ × 100
    (0x08, 0xE6): (None, "<H", float),  # TVOC µg/m³ (v2 firmware)
    (0x09, 0x73): ("pressure", "<H", lambda raw: raw / 10),
    (0x0A, 0x7D): ("hcho", "<H", lambda raw: raw / 100),
    (0x0B, 0x7D): ("pm2_5", "<H", float),
    (0x0C, 0x7D): ("pm10", "<H", float),
    (0x0D, 0x7D): ("o3", "<H", lambda raw: raw / 100 * O3_UG_PER_PPM),
    (0x0E, 0x01): (None, "<B", float),  # buzzer
    (0xFF, 0x01): (None, "<B", float),  # IPSO version
    (0xFF, 0x09): (None, "<H", float),  # hardware version
    (0xFF, 0x0A): (None, "<H", float),  # firmware version
    (0xFF, 0x0B): (None, "<B", float),  # device status (power on)
    (0xFF, 0x0F): (None, "<B", float),  # LoRaWAN class
    (0xFF, 0x16): (None, "<Q", float),  # serial number
    (0xFF, 0xFF): (None, "<H", float),  # TSL version
}


class MilesightAm300(Codec):
    key = "milesight_am300"
    description = "Milesight AM300 series (AM307, AM308, AM319) channel payload"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode an AM300 frame; the port (85 for data) does not matter."""
        reader = Reader(data)
        values = {}
        while reader.left():
            channel = reader.read("<BB", "channel id and type")
            spec = CHANNELS.get(channel)
            if spec is None:
                raise CodecError(
                    reader.offset - 2,
                    f"unknown Milesight channel {channel[0]:02X} {channel[1]:02X}: its size "
                    "is unknown, so the rest of the frame cannot be read",
                )
            key, fmt, convert = spec
            raw = reader.one(fmt, key or f"channel {channel[0]:02X} {channel[1]:02X}")
            if key is not None:
                values[key] = convert(raw)
        return values
