"""Parsing of the property values of a request body: each raises ``StaError`` 400 naming
the property, so a client learns which of its fields is wrong.

Times are ISO 8601 strings as the spec writes them (an instant, or an interval
``start/end``); GeoJSON is checked by the ``geojson`` library and summarized as a
bounding box for the geospatial ``$filter`` columns.
"""

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import geojson  # type: ignore[import-untyped]

from sensorgrid import storable
from sensorgrid.sensorthings.errors import StaError

#: The encodingType of Locations and FeaturesOfInterest (both spellings are in use).
GEOJSON_TYPES = ("application/geo+json", "application/vnd.geo+json")


def bad(prop: str, why: str) -> StaError:
    return StaError(400, f"{prop}: {why}")


def text(prop: str, value: object, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise bad(prop, f"must be a string, not {_kind(value)}")
    if max_length is not None and len(value) > max_length:
        raise bad(prop, f"is longer than {max_length} characters")
    return value


def json_object(prop: str, value: object) -> dict[str, Any] | None:
    """A JSON object or null (``properties``, ``parameters``)."""
    if value is not None and not isinstance(value, dict):
        raise bad(prop, f"must be a JSON object, not {_kind(value)}")
    return value


def instant(prop: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise bad(prop, f"must be an ISO 8601 time string, not {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad(prop, f"{value[:60]!r} is not an ISO 8601 time") from None


def interval(prop: str, value: object) -> tuple[datetime, datetime]:
    """``start/end`` (both ISO 8601 instants, end not before start)."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise bad(prop, 'must be an ISO 8601 time interval "start/end"')
    start_text, end_text = value.split("/")
    start, end = instant(prop, start_text), instant(prop, end_text)
    if end < start:
        raise bad(prop, "the interval ends before it starts")
    return start, end


def instant_or_interval(prop: str, value: object) -> tuple[datetime, datetime | None]:
    """phenomenonTime: an instant (end None) or an interval."""
    if isinstance(value, str) and "/" in value:
        return interval(prop, value)
    return instant(prop, value), None


def unit_of_measurement(value: object) -> dict[str, Any]:
    """``{"name", "symbol", "definition"}``: strings or null (the spec's JSON object)."""
    prop = "unitOfMeasurement"
    if not isinstance(value, dict):
        raise bad(
            prop, f"must be a JSON object with name, symbol and definition, not {_kind(value)}"
        )
    for key, item in value.items():
        if (
            key in ("name", "symbol", "definition")
            and item is not None
            and not isinstance(item, str)
        ):
            raise bad(f"{prop}/{key}", f"must be a string or null, not {_kind(item)}")
    return value


def geometry(prop: str, value: object) -> dict[str, Any]:
    """A GeoJSON geometry, Feature or FeatureCollection, valid per RFC 7946's shapes."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise bad(prop, 'must be a GeoJSON object with a "type"')
    try:
        parsed = geojson.GeoJSON.to_instance(value, strict=True)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise bad(prop, f"is not valid GeoJSON ({_short(exc)})") from None
    if not isinstance(parsed, geojson.GeoJSON) or not parsed.is_valid:
        errors = parsed.errors() if isinstance(parsed, geojson.GeoJSON) else "unknown type"
        raise bad(prop, f"is not valid GeoJSON ({_short(errors)})")
    if bbox(value) is None and value["type"] not in ("FeatureCollection", "GeometryCollection"):
        raise bad(prop, "has no coordinates")
    return value


def bbox(document: object) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of every position in a GeoJSON document."""
    lons, lats = [], []
    for position in _positions(document):
        lons.append(position[0])
        lats.append(position[1])
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


def _positions(node: object) -> Iterator[list[float]]:
    if isinstance(node, dict):
        if "coordinates" in node:
            yield from _coordinates(node["coordinates"])
        for key in ("geometry", "geometries", "features"):
            child = node.get(key)
            if isinstance(child, list):
                for item in child:
                    yield from _positions(item)
            elif child is not None:
                yield from _positions(child)


def _coordinates(node: object) -> Iterator[list[float]]:
    if isinstance(node, list) and node and all(_number(x) for x in node):
        if len(node) >= 2:
            yield node
    elif isinstance(node, list):
        for item in node:
            yield from _coordinates(item)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def unstorable(document: object, path: str = "") -> None:
    """Refuse text no database stores (NUL, lone surrogates) anywhere in a body."""
    if isinstance(document, str):
        found = storable.problem(document)
        if found:
            raise bad(path or "body", f"contains {found}")
    elif isinstance(document, dict):
        for key, item in document.items():
            unstorable(key, path)
            unstorable(item, f"{path}/{key}" if path else str(key))
    elif isinstance(document, list):
        for index, item in enumerate(document):
            unstorable(item, f"{path}[{index}]")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _short(error: object) -> str:
    return str(error)[:160]
