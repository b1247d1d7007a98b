"""What the network-server decoders (``ttn``, ``chirpstack``, ``chirpstack_v3``) share.

Pure helpers, no decoder of their own: the device ids an uplink may be known by, the
binary frame, and the quantity values of a payload formatter's output
(``decoded_payload`` of The Things Stack, ``object`` of ChirpStack).

Formatter output → values (docs/lorawan.md):

- a field is looked up by its lower-cased name in ``ALIASES``; a trailing channel
  number (Cayenne LPP style ``temperature_1``) is dropped when what remains is a
  seeded quantity key or an alias. As in the ``cayenne_lpp`` codec, the lowest
  channel of a quantity gets the plain key and the others ``<key>_<channel>``
  (``temperature_5``), which is stored only if such a quantity is registered;
- numbers are taken, booleans become 1 or 0, strings only if they are a number
  (``"21.50"`` from a formatter's ``toFixed``); anything else is skipped;
- an object one level down is flattened: its members count by their own names, so
  Cayenne's ``gps_1: {latitude, longitude, altitude}`` gives the three positions;
  deeper objects and lists are skipped;
- otherwise the first field of a quantity wins, top-level fields before nested ones;
- a voltage field (``vdd``, ``BatV``, ``battery``, ``bat`` …) is ``battery`` in volts:
  a value above 100 is millivolts (no battery has 100 V; Elsys' ``vdd`` is 3600) and
  is divided by 1000.

Names that are not registered quantities reach the pipeline, which refuses them by
name (``unknown-quantity``) and stores the rest: the registry lives in the database,
decoders stay pure.
"""

import base64
import binascii
import math
import re
from dataclasses import replace

from sensorgrid.ingest.envelope import Decoded, FramePayload, Refusal
from sensorgrid.inventory.device_ids import canonical
from sensorgrid.inventory.quantities import SEED

#: Common payload-formatter names → quantity keys (names are compared lower-cased).
ALIASES: dict[str, str] = {
    # Cayenne LPP as decoded by The Things Stack and ChirpStack
    "relative_humidity": "humidity",
    "barometric_pressure": "pressure",
    "luminosity": "illuminance",
    "presence": "motion",
    # frequent hand-written formatter names
    "temp": "temperature",
    "temperature_c": "temperature",
    "tempc_sht": "temperature",  # Dragino LHT65 / LHT52
    "rh": "humidity",
    "humidity_pct": "humidity",
    "hum_sht": "humidity",  # Dragino
    "light": "illuminance",
    "lux": "illuminance",
    "pm25": "pm2_5",
    "pm2.5": "pm2_5",
    "co2_ppm": "co2",
    # battery voltage, in volts or millivolts (see ``_volts``)
    "batv": "battery",  # Dragino: volts
    "bat_v": "battery",
    "battery_v": "battery",
    "battery_voltage": "battery",
    "vbat": "battery",
    "vbatt": "battery",
    "bat": "battery",
    "batt": "battery",
    "vdd": "battery",  # Elsys: supply voltage in mV
    "bat_mv": "battery",
    "battery_mv": "battery",
    "batt_mv": "battery",
    # a PIR's count of motion events in the interval is no 0/1 "motion"
    "motion_count": "motion_count",
    "pir_count": "motion_count",
    "motion_events": "motion_count",
    "battery_percent": "battery_level",
    "battery_percentage": "battery_level",
    "bat_percent": "battery_level",
}

_SEEDED = frozenset(key for key, *_ in SEED)
_CHANNEL = re.compile(r"(.+?)_(\d{1,9})")
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_HEX_EUI = re.compile(r"[0-9A-Fa-f]{16}")


def quantity_key(name: str) -> tuple[str, int | None]:
    """The quantity key a formatter's field name stands for, and its channel if any."""
    name = name.lower()
    if name in ALIASES:
        return ALIASES[name], None
    match = _CHANNEL.fullmatch(name)
    if match and name not in _SEEDED:
        base, channel = match.group(1), int(match.group(2))
        if base in ALIASES:
            return ALIASES[base], channel
        if base in _SEEDED:
            return base, channel
    return name, None


def formatter_values(decoded: object) -> tuple[tuple[str, object], ...]:
    """The (quantity key, value) pairs of a payload formatter's output (see above)."""
    if not isinstance(decoded, dict):
        return ()
    fields = [(name, raw) for name, raw in decoded.items() if not isinstance(raw, dict)]
    for members in decoded.values():
        if isinstance(members, dict):
            fields += [(name, raw) for name, raw in members.items() if not isinstance(raw, dict)]
    values: dict[str, object] = {}
    numbered = []
    for name, raw in fields:
        value = _number(raw)
        if value is None or not isinstance(name, str):
            continue
        key, channel = quantity_key(name)
        if key == BATTERY:
            value = _volts(value)
        if channel is None:
            values.setdefault(key, value)
        else:
            numbered.append((channel, key, value))
    # Like the cayenne_lpp codec: the lowest channel of a quantity gets the plain key.
    for channel, key, value in sorted(numbered, key=lambda item: item[0]):
        values.setdefault(key if key not in values else f"{key}_{channel}", value)
    return tuple(values.items())


BATTERY = "battery"
#: Above this a battery voltage is in millivolts: no battery has 100 V, and a
#: millivolt reading is rarely below 1000.
MILLIVOLTS_ABOVE = 100


def _volts(value: object) -> object:
    if isinstance(value, int | float) and value > MILLIVOLTS_ABOVE:
        return value / 1000
    return value


def _number(raw: object) -> object:
    if isinstance(raw, bool):
        return 1 if raw else 0
    if isinstance(raw, int | float):
        return raw  # NaN and overflows are left to validation, which names them
    if isinstance(raw, str) and _NUMBER.fullmatch(raw):
        value = float(raw)
        return value if math.isfinite(value) else None
    return None


def device_ids(eui: object, *names: object) -> tuple[str, tuple[str, ...]]:
    """The device id to resolve first and the alternatives, in order.

    The DevEUI first, in its one stored spelling (lower-case hex,
    ``inventory.device_ids``), then the network server's own device id or name.
    Raises ValueError when the uplink names no device at all.
    """
    ids: list[str] = []
    if isinstance(eui, str) and eui:
        ids.append(canonical(eui))
    ids += [name for name in names if isinstance(name, str) and name]
    ids = [i[:200] for i in dict.fromkeys(ids)]
    if not ids:
        raise ValueError("the uplink names no device (no DevEUI, no device id)")
    return ids[0], tuple(ids[1:])


def eui_hex(value: object, field: str) -> str:
    """An EUI-64 given as hex or as base64 of its 8 bytes (ChirpStack v3), as hex."""
    if not isinstance(value, str) or not value:
        return ""
    if _HEX_EUI.fullmatch(value):
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 8:
        raise ValueError(f'"{field}": {value[:40]!r} is not 16 hex digits nor base64 of 8 bytes')
    return raw.hex()


def frame_bytes(value: object, field: str) -> bytes:
    """The base64 application payload, as bytes."""
    if not isinstance(value, str):
        raise ValueError(f'"{field}" must be a base64 string')
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f'"{field}" is not valid base64') from None


#: A frame whose base64 could not be read (``frame_or_unreadable``); the decoder's
#: ``unreadable_frames_refused`` turns it into a refusal of its own.
UNREADABLE = FramePayload(None, b"")


def frame_or_unreadable(port: int | None, value: object, field: str) -> FramePayload | None:
    """The frame of a base64 field, None without one, ``UNREADABLE`` if it is not base64."""
    if value is None:
        return None
    try:
        return FramePayload(port, frame_bytes(value, field))
    except ValueError:
        return UNREADABLE


def unreadable_frames_refused(decoded: Decoded, field: str) -> Decoded:
    """Messages with an unreadable frame lose the frame, and it is refused on its own.

    A damaged ``data`` must not cost what else the uplink carries (issue 18, item 7):
    the network server's decoded fields and the gateways' receptions are kept, and the
    frame is a ``malformed`` dead letter of the same message (to see, and to replay).
    """
    broken = [m for m in decoded.messages if m.frame is UNREADABLE]
    if not broken:
        return decoded
    detail = f'"{field}" is not valid base64: the frame was not decoded'
    return Decoded(
        tuple(replace(m, frame=None) if m.frame is UNREADABLE else m for m in decoded.messages),
        decoded.refusals
        + tuple(Refusal(m.index, "malformed", detail, m.raw, m.device) for m in broken),
    )


def integer(value: object) -> int | None:
    """An integer field; protobuf JSON writes 64-bit integers as digit strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def real(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def dig(value: object, *path: str) -> object:
    """``value[path[0]][path[1]]…``, or None where the path breaks off."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def spreading_factor_of_data_rate(data_rate: object, frequency: int | None) -> int | None:
    """The spreading factor of a LoRa data rate index, where the region allows knowing it.

    DR0…DR5 are SF12…SF7 at 125 kHz in EU868, CN470 and IN865 (and AU915, AS923,
    KR920), but DR0…DR3 are SF10…SF7 in US915. Within 902–928 MHz, where US915 meets
    AU915, AS923 and KR920, the index alone does not tell, and None is returned.
    """
    index = integer(data_rate)
    if index is None or not 0 <= index <= 5 or frequency is None:
        return None
    if 902_000_000 <= frequency <= 928_000_000:
        return None
    return 12 - index


def position(value: object) -> tuple[float, float] | None:
    """``(latitude, longitude)`` of a ``{"latitude": …, "longitude": …}`` object (a
    gateway's ``location`` in TTS ``rx_metadata`` and ChirpStack ``rxInfo``, an entry of
    TTS ``locations``), None if absent or impossible. (0, 0) is the "no fix" of many
    GPS modules and gateways without a configured position: unknown, not the Gulf of Guinea.
    """
    latitude, longitude = real(dig(value, "latitude")), real(dig(value, "longitude"))
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


def uplink_position(
    values: tuple[tuple[str, object], ...], *locations: object
) -> tuple[float, float] | None:
    """Where the device was when it sent the uplink: the first of ``locations`` that is a
    position, else the ``latitude`` and ``longitude`` the network server decoded."""
    for location in locations:
        found = position(location)
        if found is not None:
            return found
    decoded = dict(values)
    return position({"latitude": decoded.get("latitude"), "longitude": decoded.get("longitude")})
