"""Field mapping: from a source's records to features (the transform step's rules).

The ``mapping`` option of a pipeline (all keys optional)::

    id: objectid              # field with the feature's id at the source
    lon: x                    # coordinate fields (CSV, JSON) …
    lat: y
    geometry: geom            # … or one field with WKT or GeoJSON
    properties: {name: NAME}  # output name ← source field; a list keeps those fields;
                              # absent: keep every field
    types: {capacity: int}    # int, float, bool, str, datetime
    valid_from: start         # time span of an event
    valid_to: end
    constants: {source: OSM}  # added to every feature

Field names may be dotted paths into nested JSON (``location.lat``).
"""

import json
import math
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from sensorgrid.geo.pipelines import crs
from sensorgrid.geo.pipelines import geometry as geometries
from sensorgrid.geo.pipelines.extras import require
from sensorgrid.geo.pipelines.items import Feature, Item

LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
TYPES = ("int", "float", "bool", "str", "datetime")
KEYS = (
    "id",
    "lon",
    "lat",
    "geometry",
    "properties",
    "types",
    "valid_from",
    "valid_to",
    "constants",
)


def check(mapping: Any) -> None:
    """ValueError if the mapping option cannot work."""
    if not isinstance(mapping, dict):
        raise ValueError("mapping must be an object.")
    unknown = sorted(set(mapping) - set(KEYS))
    if unknown:
        raise ValueError(f"Unknown mapping key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}.")
    properties = mapping.get("properties")
    if properties is not None and not isinstance(properties, dict | list):
        raise ValueError("mapping.properties must be an object (new name: field) or a list.")
    for name in ("types", "constants"):
        if not isinstance(mapping.get(name) or {}, dict):
            raise ValueError(f"mapping.{name} must be an object.")
    for name in ("id", "lon", "lat", "geometry", "valid_from", "valid_to"):
        if not isinstance(mapping.get(name) or "", str):
            raise ValueError(f"mapping.{name} must be a field name.")
    for name, kind in (mapping.get("types") or {}).items():
        if kind not in TYPES:
            raise ValueError(f"mapping.types.{name}: {kind!r} is not one of {', '.join(TYPES)}.")


def get(record: dict, path: str) -> Any:
    value: Any = record
    for part in str(path).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def apply(
    item: Item,
    mapping: dict,
    layer_type: str,
    repair: bool = False,
    srs: str | None = None,
    axis_order: str | None = None,
) -> Feature:
    """The feature of ``item``; ValueError with the reason if the record is unusable.

    ``srs`` is the coordinate system of geometries whose document declares none;
    ``axis_order`` "yx" swaps coordinate pairs (not named lon/lat fields) the source
    wrote latitude first.
    """
    record = item.properties
    external_id = get(record, mapping["id"]) if mapping.get("id") else item.external_id
    if external_id is None or str(external_id).strip() == "":
        raise ValueError(
            f"no id (field {mapping['id']!r} is empty)"
            if mapping.get("id")
            else "no id: set mapping.id to the field that identifies a record"
        )
    geometry, used = _geometry(item, mapping)
    own = item.geometry is not None and not mapping.get("geometry")
    named_axes = not own and not mapping.get("geometry")  # lon/lat fields say which is which
    if axis_order == "yx" and not named_axes and not (own and item.ordered):
        geometry = crs.swap(geometry)
    geometry = crs.to_wgs84(geometry, (item.crs if own else None) or srs)
    geometry, bbox = geometries.check(geometry, layer_type, repair)
    properties = _properties(record, mapping, used)
    valid_from = _time(record, mapping.get("valid_from"), item.valid_from, "valid_from")
    valid_to = _time(record, mapping.get("valid_to"), item.valid_to, "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise ValueError(
            f"ends ({valid_to.isoformat()}) before it starts ({valid_from.isoformat()})"
        )
    return Feature(
        external_id=str(external_id).replace("\x00", "").strip()[:255],
        geometry=geometry,
        properties=jsonable(properties),
        bbox=bbox,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def _geometry(item: Item, mapping: dict) -> tuple[dict, set[str]]:
    if item.geometry is not None and not mapping.get("geometry"):
        return item.geometry, set()
    record = item.properties
    if mapping.get("geometry"):
        field = mapping["geometry"]
        value = get(record, field)
        if value in (None, ""):
            raise ValueError(f"no geometry (field {field!r} is empty)")
        return _parse_geometry(value, field), {field}
    lon_field = mapping.get("lon") or _guess(record, LON_NAMES)
    lat_field = mapping.get("lat") or _guess(record, LAT_NAMES)
    if not lon_field or not lat_field:
        raise ValueError("no coordinates: set mapping.lon and mapping.lat (or mapping.geometry)")
    lon = _number(get(record, lon_field), lon_field)
    lat = _number(get(record, lat_field), lat_field)
    return geometries.point(lon, lat), {lon_field, lat_field}


def _guess(record: dict, names: tuple[str, ...]) -> str | None:
    lowered = {str(key).lower(): key for key in record}
    return next((lowered[name] for name in names if name in lowered), None)


def _parse_geometry(value: Any, field: str) -> dict:
    if isinstance(value, dict):
        return value
    text = str(value).strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{field}: not GeoJSON: {exc}") from None
    shapely = require("shapely")
    require("shapely.wkt")
    try:
        return shapely.geometry.mapping(shapely.wkt.loads(text))
    except Exception as exc:  # shapely raises several types for bad WKT
        raise ValueError(f"{field}: neither GeoJSON nor WKT: {exc}") from None


def _number(value: Any, field: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{field} is empty")
    if isinstance(value, bool):
        raise ValueError(f"{field}: {value!r} is not a number")
    text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # decimal comma, common in European portals
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return number


def _properties(record: dict, mapping: dict, used: set[str]) -> dict:
    wanted = mapping.get("properties")
    if isinstance(wanted, dict):
        properties = {out: get(record, field) for out, field in wanted.items()}
    elif isinstance(wanted, list):
        properties = {field: get(record, field) for field in wanted}
    else:
        properties = {k: v for k, v in record.items() if k not in used}
    for name, kind in (mapping.get("types") or {}).items():
        if name in properties:
            properties[name] = convert(properties[name], kind, name)
    properties.update(mapping.get("constants") or {})
    return properties


def convert(value: Any, kind: str, name: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if kind == "int":
            number = _number(value, name)
            if number != int(number):
                raise ValueError
            return int(number)
        if kind == "float":
            return _number(value, name)
        if kind == "bool":
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "ja", "y", "t"):
                return True
            if text in ("0", "false", "no", "nein", "n", "f"):
                return False
            raise ValueError
        if kind == "datetime":
            return to_datetime(value).isoformat()
        return str(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a {kind}") from None


def to_datetime(value: Any) -> datetime:
    """A timezone-aware datetime (UTC if none given); ValueError if it is none."""
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time.min)
    else:
        text = str(value).strip()
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            if day is None:
                raise ValueError(f"{value!r} is not a date or time")
            parsed = datetime.combine(day, time.min)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _time(record: dict, field: str | None, default: datetime | None, name: str):
    if not field:
        return default
    value = get(record, field)
    if value in (None, ""):
        return None
    try:
        return to_datetime(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def jsonable(value: Any) -> Any:
    """Plain JSON values; NUL characters removed (PostgreSQL refuses them in jsonb)."""
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)
