"""Dragino LHT65 temperature and humidity sensor: one fixed 11-byte frame on port 2.

As in Dragino's decoder, only port 2 carries data: a frame on another port is refused
("unknown fPort"), not read as temperatures. A frame whose port is not known (a caller
that has none) is read.

Big-endian, following Dragino's decoder in the TTN device repository
(``vendor/dragino/lht65.js``):

| bytes | field | quantity |
|---|---|---|
| 0–1 | battery status (top 2 bits) and voltage (low 14 bits, mV) | ``battery`` (V) |
| 2–3 | built-in temperature, int16 / 100 °C | ``temperature`` |
| 4–5 | built-in humidity, low 12 bits / 10 % | ``humidity`` |
| 6 | external sensor type (low 4 bits), "not connected" (bit 7), datalog poll reply (bit 6) | |
| 7–10 | external sensor value, by type | |

External sensor types: 0 none; 1 DS18B20 probe, bytes 7–8 int16 / 100 °C →
``temperature_external``; 4 interrupt pin (skipped); 5 illuminance, bytes 7–8 lux →
``illuminance``; 6 ADC voltage (skipped); 7 and 8 interrupt counters (skipped: a
running total, not a count per interval); 9 DS18B20 with timestamp, the probe's
temperature in bytes 0–1 instead of the battery voltage (bytes 7–10 are the time);
15 the probe's ROM id in bytes 2–5 and 7–10 instead of the built-in values.

A temperature of 0x7FFF (327.67 °C) means "no sensor" and is skipped, as is the
external value when the "not connected" bit is set. The battery status bits are not a
quantity and are skipped. Datalog poll replies (bit 6) carry history records, which
this codec does not read: ``CodecError``, so the frame is kept as a dead letter.
"""

from sensorgrid.ingest.codecs.base import Codec, CodecError
from sensorgrid.ingest.codecs.binary import Reader

FRAME_SIZE = 11
DATA_PORT = 2
NO_SENSOR = 0x7FFF

EXT_NONE, EXT_DS18B20, EXT_INTERRUPT, EXT_ILLUMINANCE, EXT_ADC = 0, 1, 4, 5, 6
EXT_COUNT_16, EXT_COUNT_32, EXT_DS18B20_TIMESTAMP, EXT_DS18B20_ID = 7, 8, 9, 15
KNOWN_EXT = {
    EXT_NONE,
    EXT_DS18B20,
    EXT_INTERRUPT,
    EXT_ILLUMINANCE,
    EXT_ADC,
    EXT_COUNT_16,
    EXT_COUNT_32,
    EXT_DS18B20_TIMESTAMP,
    EXT_DS18B20_ID,
}


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def _temperature(raw: int) -> float | None:
    return None if raw == NO_SENSOR else raw / 100


class DraginoLht65(Codec):
    key = "dragino_lht65"
    description = "Dragino LHT65 temperature and humidity sensor with external probe"

    def decode(self, data: bytes, port: int | None = None) -> dict[str, float]:
        """Decode an LHT65 uplink on port 2; another port is a ``CodecError``."""
        if port is not None and port != DATA_PORT:
            raise CodecError(0, f"unknown fPort {port}: LHT65 data comes on port {DATA_PORT}")
        reader = Reader(data)
        first_word, temperature, humidity_word, ext_byte = reader.read(
            ">HhHB", "battery, temperature, humidity and external sensor type"
        )
        ext_type, disconnected, poll_reply = ext_byte & 0x0F, ext_byte >> 7, ext_byte >> 6 & 1
        if poll_reply:
            raise CodecError(6, "a datalog poll reply (history records) is not read by this codec")
        if ext_type not in KNOWN_EXT:
            raise CodecError(
                6, f"unknown external sensor type {ext_type}: the frame layout is unknown"
            )
        ext_word, _ext_rest = reader.read(">HH", "external sensor value")
        if reader.left():
            raise CodecError(
                reader.offset, f"{reader.left()} byte(s) after the {FRAME_SIZE}-byte frame"
            )

        values: dict[str, float] = {}
        if ext_type == EXT_DS18B20_TIMESTAMP:
            probe = _temperature(_signed(first_word))
            if probe is not None and not disconnected:
                values["temperature_external"] = probe
        else:
            values["battery"] = (first_word & 0x3FFF) / 1000
        if ext_type != EXT_DS18B20_ID:
            builtin = _temperature(temperature)
            if builtin is not None:
                values["temperature"] = builtin
            values["humidity"] = (humidity_word & 0x0FFF) / 10
        if not disconnected:
            if ext_type == EXT_DS18B20:
                probe = _temperature(_signed(ext_word))
                if probe is not None:
                    values["temperature_external"] = probe
            elif ext_type == EXT_ILLUMINANCE:
                values["illuminance"] = float(ext_word)
        return values
