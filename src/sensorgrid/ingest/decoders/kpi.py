"""KPI messages of smart-city platforms, on MQTT topics ``kpi/<clientId>/…`` and ``/kpi/…``.

One JSON object per device and instant (or a list of them, or NDJSON)::

    {"clientId": "temp-pub01", "unixTimestamp": 1763884800000,
     "timestamp": "2026-11-23T08:00:00.000Z",
     "kpis": [{"name": "temperature", "unitId": 1, "value": 21.4},
              {"name": "pm2.5", "unitId": "µg/m³", "value": 8.2}]}

Each document is checked against ``schemas/kpi.schema.json``, a superset of the
schema of the MQTT KPI Collection Project (the schema says what it relaxes; decoder
``kpi_strict`` applies the project's schema as it is); a
document that breaks it is refused as ``malformed`` with the JSON path and message of
the most relevant schema error. ``clientId`` is the device id and must be the device
the topic names, if it names one (else ``forbidden-device``). ``unixTimestamp``
(milliseconds, never seconds) is preferred over ``timestamp`` (ISO 8601); one of the
two is required, and one that cannot be read is refused as ``bad-timestamp``.

Unit ids. 1–6 are those of the KPI Collection Project's ``units`` table; 100 and up
are SensorGrid's, far enough from 6 that the project could add its own. ``unitId``
may also be text (case and spaces ignored; µ may be written u).

====  ===========================================  ==========================  ==============
id    text also accepted                           quantities (by KPI name)    if no name fits
====  ===========================================  ==========================  ==============
1     °C, degC, C, Cel, celsius                    temperature                 temperature
2     K, kelvin                                    temperature (−273.15)       temperature
3     °F, degF, F, fahrenheit                      temperature ((v−32)·5/9)    temperature
4     N, newton                                    —                           —
5     kg                                           —                           —
6     g                                            —                           —
100   ppm                                          co2                         co2
101   ppb                                          tvoc                        tvoc
102   %, percent                                   humidity, battery_level     —
103   %RH, RH                                      humidity                    humidity
104   hPa, mbar                                    pressure                    pressure
105   Pa                                           pressure (÷100)             pressure
106   µg/m³, ug/m3                                 pm1, pm2_5, pm10, no2, o3   —
107   dB, dB(A), dBA                               noise, snr                  noise
108   lx, lux                                      illuminance                 illuminance
109   km/h, kmh, kph                               speed, wind_speed (÷3.6)    speed
110   m/s                                          wind_speed, speed (×3.6)    —
111   V, volt                                      battery                     battery
112   mV                                           battery (÷1000)             battery
113   °, deg, degree                               heading, wind_direction,    —
                                                   latitude, longitude
114   m, metre, meter                              altitude, distance          —
115   mm                                           rain                        —
116   dBm                                          rssi                        rssi
117   persons, people                              occupancy                   occupancy
====  ===========================================  ==========================  ==============

How a KPI becomes a quantity:

1. Its name is compared without case, accents and separators (``PM2.5``, ``pm2_5``
   and ``pm25`` are one name; ``pm1.0`` is not ``pm10``). A name that is a quantity
   key or one of ``NAMES`` chooses that quantity, if the unit allows it.
2. A name that chooses no quantity gets the unit's default (last column): ``ppm``
   is co2 whatever the KPI is called. A name that names a quantity the unit does not
   allow (``co2`` in °C) gets no quantity: name and unit disagree.
3. One quantity per document: when several KPIs get the same quantity, one that
   named it wins over those that defaulted to it, then the first one wins.
4. A KPI without a quantity is passed on under its normalized name (``engine_temp``
   for ``engineTemp``), which the pipeline keeps as an ``unknown-quantity`` dead
   letter unless such a quantity is registered. Nothing is dropped. If that name is a
   quantity's, the unit is appended (``co2_degc``), so that a value is never stored
   as a quantity in a unit it was not given in.
"""

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any, ClassVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from sensorgrid import timestamps
from sensorgrid.ingest.decoders.base import JsonDecoder, Refused, normalized_name
from sensorgrid.ingest.envelope import Envelope, Message, Raw
from sensorgrid.inventory.quantities import SEED

SCHEMA: dict[str, Any] = json.loads(
    resources.files("sensorgrid.ingest.decoders")
    .joinpath("schemas/kpi.schema.json")
    .read_text(encoding="utf-8")
)
_VALIDATOR = Draft202012Validator(SCHEMA)
_MAX_DETAIL = 500

Convert = Callable[[float], float]


@dataclass(frozen=True, slots=True)
class Unit:
    """What a KPI in this unit can be: quantity → conversion into the quantity's unit."""

    slug: str  # appended to a passed-on name that is a quantity's
    quantities: dict[str, Convert | None] = field(default_factory=dict)
    default: str | None = None  # the quantity when the KPI's name chooses none


def _celsius(unit: str, convert: Convert | None = None) -> Unit:
    return Unit(unit, {"temperature": convert}, "temperature")


#: unit id (numeric, or the first textual form) → Unit; the table in the module docstring
UNITS: dict[int, Unit] = {
    1: _celsius("degc"),
    2: _celsius("k", lambda v: v - 273.15),
    3: _celsius("degf", lambda v: (v - 32) * 5 / 9),
    4: Unit("n"),
    5: Unit("kg"),
    6: Unit("g"),
    100: Unit("ppm", {"co2": None}, "co2"),
    101: Unit("ppb", {"tvoc": None}, "tvoc"),
    102: Unit("percent", {"humidity": None, "battery_level": None}),
    103: Unit("rh", {"humidity": None}, "humidity"),
    104: Unit("hpa", {"pressure": None}, "pressure"),
    105: Unit("pa", {"pressure": lambda v: v / 100}, "pressure"),
    106: Unit("ug_m3", dict.fromkeys(("pm1", "pm2_5", "pm10", "no2", "o3"))),
    107: Unit("db", {"noise": None, "snr": None}, "noise"),
    108: Unit("lx", {"illuminance": None}, "illuminance"),
    109: Unit("km_h", {"speed": None, "wind_speed": lambda v: v / 3.6}, "speed"),
    110: Unit("m_s", {"wind_speed": None, "speed": lambda v: v * 3.6}),
    111: Unit("v", {"battery": None}, "battery"),
    112: Unit("mv", {"battery": lambda v: v / 1000}, "battery"),
    113: Unit("deg", dict.fromkeys(("heading", "wind_direction", "latitude", "longitude"))),
    114: Unit("m", {"altitude": None, "distance": None}),
    115: Unit("mm", {"rain": None}),
    116: Unit("dbm", {"rssi": None}, "rssi"),
    117: Unit("persons", {"occupancy": None}, "occupancy"),
}

#: textual unit (compared as folded by ``_unit_text``) → unit id
UNIT_TEXTS: dict[str, int] = {
    **dict.fromkeys(("°c", "degc", "c", "cel", "celsius"), 1),
    **dict.fromkeys(("k", "kelvin"), 2),
    **dict.fromkeys(("°f", "degf", "f", "fahrenheit"), 3),
    **dict.fromkeys(("n", "newton"), 4),
    "kg": 5,
    "g": 6,
    "ppm": 100,
    "ppb": 101,
    **dict.fromkeys(("%", "percent"), 102),
    **dict.fromkeys(("%rh", "rh"), 103),
    **dict.fromkeys(("hpa", "mbar"), 104),
    "pa": 105,
    **dict.fromkeys(("μg/m3", "ug/m3"), 106),
    **dict.fromkeys(("db", "db(a)", "dba"), 107),
    **dict.fromkeys(("lx", "lux"), 108),
    **dict.fromkeys(("km/h", "kmh", "kph"), 109),
    "m/s": 110,
    **dict.fromkeys(("v", "volt"), 111),
    "mv": 112,
    **dict.fromkeys(("°", "deg", "degree"), 113),
    **dict.fromkeys(("m", "metre", "meter"), 114),
    "mm": 115,
    "dbm": 116,
    **dict.fromkeys(("persons", "people"), 117),
}

#: quantity → KPI names that choose it besides its key (compared as by ``_name_key``)
NAMES: dict[str, tuple[str, ...]] = {
    "co2": ("carbondioxide",),
    "temperature": ("temp", "airtemperature", "airtemp", "ambienttemperature"),
    "humidity": ("hum", "relativehumidity", "rh", "airhumidity"),
    "pressure": ("airpressure", "barometricpressure"),
    "pm1": ("pm1_0",),
    "pm2_5": ("pm25",),
    "pm10": ("pm10_0",),
    "no2": ("nitrogendioxide",),
    "o3": ("ozone",),
    "noise": ("noiselevel", "sound", "soundlevel", "laeq"),
    "illuminance": ("light", "lux", "brightness"),
    "speed": ("velocity", "vehiclespeed"),
    "wind_speed": ("wind",),
    "heading": ("course", "bearing"),
    "wind_direction": ("winddir",),
    "latitude": ("lat",),
    "longitude": ("lon", "lng"),
    "altitude": ("alt", "elevation"),
    "battery": ("batteryvoltage", "vbat"),
    "battery_level": ("battery", "soc", "stateofcharge"),
    "tvoc": ("voc",),
    "rain": ("precipitation", "rainfall"),
    "occupancy": ("people", "persons"),
}


class KpiMessage(JsonDecoder):
    key = "kpi"
    description = 'KPI message: {"clientId", "unixTimestamp", "timestamp", "kpis": [...]}'
    routes: ClassVar[tuple[str, ...]] = ("kpi/{device}/#", "/kpi/#")

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        problem = schema_problem(document)
        client = document.get("clientId") if isinstance(document, dict) else None
        client = client[:200] if isinstance(client, str) else ""
        if problem is not None:
            raise Refused("malformed", problem, client)
        assert isinstance(document, dict)  # the schema says so
        if envelope.device and client != envelope.device:
            detail = f"the payload names device {client!r} on the topic of {envelope.device!r}"
            raise Refused("forbidden-device", detail, envelope.device)
        try:
            ts = _timestamp(document)
        except ValueError as exc:
            raise Refused("bad-timestamp", str(exc), client) from None
        return Message(index, client, ts, values(document["kpis"]), raw)


def schema_problem(document: object, validator: Validator = _VALIDATOR) -> str | None:
    """Where and how ``document`` breaks the KPI schema (the most relevant error), or None.

    ``validator``: another schema's (``kpi_strict`` passes the reference schema's).
    """
    try:
        instance: Any = document  # any JSON value; the stubs want a narrower type
        error = best_match(validator.iter_errors(instance))
        if error is None:
            return None
        message = error.message
        if "then" in error.schema_path:  # the only if/then: a time is missing
            message = "'unixTimestamp' (epoch ms) or 'timestamp' (ISO 8601) is required"
        detail = f"{error.json_path}: {message}"
    except RecursionError:
        return "$: nested too deeply"
    return detail if len(detail) <= _MAX_DETAIL else detail[: _MAX_DETAIL - 1] + "…"


def values(kpis: list[dict[str, Any]]) -> tuple[tuple[str, object], ...]:
    """The (quantity key, value) pairs of a schema-valid ``kpis`` list, in its order.

    Follows the rules of the module docstring; a KPI without a quantity keeps its
    value unconverted under its passed-on name.
    """
    chosen = [_quantity(kpi) for kpi in kpis]
    winners: dict[str, int] = {}
    for index, (quantity, named, _) in enumerate(chosen):
        if quantity is not None:
            best = winners.get(quantity)
            if best is None or (named and not chosen[best][1]):
                winners[quantity] = index
    pairs: list[tuple[str, object]] = []
    for index, (kpi, (quantity, _, convert)) in enumerate(zip(kpis, chosen, strict=True)):
        if quantity is not None and winners[quantity] == index:
            pairs.append((quantity, _converted(kpi["value"], convert)))
        else:
            pairs.append((_passed_on_name(kpi), kpi["value"]))
    return tuple(pairs)


_SEPARATOR = re.compile(r"(?<![0-9])_|_(?![0-9])")  # keeps pm2_5 apart from pm25


def _name_key(name: str) -> str:
    """A name as compared with ``NAMES``: normalized, separators only between digits."""
    return _SEPARATOR.sub("", normalized_name(name))


def _names_index() -> dict[str, set[str]]:
    """Compared name → every quantity it names: the keys of the registry and ``NAMES``."""
    index: dict[str, set[str]] = {}
    for quantity, names in [*((key, ()) for key, *_ in SEED), *NAMES.items()]:
        for name in (quantity, *names):
            index.setdefault(_name_key(name), set()).add(quantity)
    return index


_NAMED = _names_index()


def _unit(unit_id: int | str) -> tuple[Unit | None, str]:
    """The unit of a KPI, or None if unknown, and its slug for passed-on names."""
    if isinstance(unit_id, str):
        text = _unit_text(unit_id)
        number = int(text) if text.isascii() and text.isdigit() else UNIT_TEXTS.get(text)
    else:
        number = int(unit_id)  # the schema allows 1.0
    unit = UNITS.get(number) if number is not None else None
    if unit is not None:
        return unit, unit.slug
    return None, "unit_" + normalized_name(str(unit_id))[:40]


def _unit_text(text: str) -> str:
    # NFKC makes ℃ "°C", ³ "3" and the micro sign µ the Greek μ.
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _quantity(kpi: dict[str, Any]) -> tuple[str | None, bool, Convert | None]:
    """(quantity, whether the name chose it, conversion) for one KPI."""
    unit, _ = _unit(kpi["unitId"])
    if unit is None:
        return None, False, None
    named = _NAMED.get(_name_key(kpi["name"]), set())
    for quantity, convert in unit.quantities.items():
        if quantity in named:
            return quantity, True, convert
    if named or unit.default is None:
        return None, False, None
    return unit.default, False, unit.quantities[unit.default]


def _passed_on_name(kpi: dict[str, Any]) -> str:
    name = normalized_name(kpi["name"])
    if _name_key(kpi["name"]) in _NAMED:
        return f"{name}_{_unit(kpi['unitId'])[1]}"
    return name


def _converted(value: float, convert: Convert | None) -> object:
    if convert is None:
        return value
    try:
        return round(convert(value), 9)  # 293.15 K is 20 °C, not 19.999999999999977
    except OverflowError:  # an integer beyond float range: the pipeline refuses it
        return value


def _timestamp(document: dict[str, Any]) -> datetime:
    milliseconds = document.get("unixTimestamp")
    if milliseconds is not None:
        # Milliseconds by definition: a value in seconds lands in 1970 and is refused.
        try:
            seconds = milliseconds / 1000
            if not math.isfinite(seconds):
                raise ValueError
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f'"unixTimestamp": {milliseconds!r} ms is out of range') from None
    try:
        return timestamps.parse(document["timestamp"])
    except ValueError as exc:
        raise ValueError(f'"timestamp": {exc}') from None
