"""The writable properties of each entity set, as one table: how each is parsed, which
column takes it, whether the spec makes it mandatory and what a PUT that leaves it out
resets it to. Creation and update both assign through ``assign``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import OBSERVATION_PROPERTIES
from sensorgrid.sensorthings.write import values as v

Parse = Callable[[str, Any], Any]


def _text(max_length: int | None = None) -> Parse:
    return lambda prop, value: v.text(prop, value, max_length)


def _any(prop: str, value: Any) -> Any:
    return value


def _required_any(prop: str, value: Any) -> Any:
    if value is None:
        raise v.bad(prop, "must not be null")
    return value


def _ignored(prop: str, value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # STA property
    attr: str | None  # model attribute (None: accepted and ignored, computed elsewhere)
    parse: Parse
    required: bool = False
    #: What a PUT without the property sets (only for optional properties).
    default: Callable[[], Any] = lambda: None


_OBJECT = v.json_object

FIELDS: dict[str, tuple[Field, ...]] = {
    "Things": (
        Field("name", "alias", _text(200), True),
        Field("description", "description", _text(), default=str),
        Field("properties", "properties", _OBJECT),
    ),
    "Locations": (
        Field("name", "name", _text(200), True),
        Field("description", "description", _text(), default=str),
        Field("encodingType", "encoding_type", _text(200), True),
        Field("location", "location", _required_any, True),
        Field("properties", "properties", _OBJECT),
    ),
    "HistoricalLocations": (Field("time", "time", v.instant, True),),
    "Datastreams": (
        Field("name", "name", _text(200), True),
        Field("description", "description", _text(), default=str),
        Field(
            "unitOfMeasurement", "unit_of_measurement", lambda p, x: v.unit_of_measurement(x), True
        ),
        Field("observationType", "observation_type", _text(200), True),
        Field(
            "observedArea", "observed_area", lambda p, x: None if x is None else v.geometry(p, x)
        ),
        # Computed from the Observations when read; a client may send them (FROST's do).
        Field("phenomenonTime", None, _ignored),
        Field("resultTime", None, _ignored),
        Field("properties", "properties", _OBJECT),
    ),
    "Sensors": (
        Field("name", "name", _text(200), True),
        Field("description", "description", _text(), default=str),
        Field("encodingType", "encoding_type", _text(200), True),
        Field("metadata", "metadata", _required_any, True),
        Field("properties", "properties", _OBJECT),
    ),
    "ObservedProperties": (
        Field("name", "name", _text(200), True),
        Field("definition", "definition", _text(500), True),
        Field("description", "description", _text(), default=str),
        Field("properties", "properties", _OBJECT),
    ),
    "FeaturesOfInterest": (
        Field("name", "name", _text(200), True),
        Field("description", "description", _text(), default=str),
        Field("encodingType", "encoding_type", _text(200), True),
        Field("feature", "feature", _required_any, True),
        Field("properties", "properties", _OBJECT),
    ),
}

#: Navigation properties a body may carry, per set (links or, on create, inline entities).
NAVIGATIONS: dict[str, tuple[str, ...]] = {
    "Things": ("Locations", "HistoricalLocations", "Datastreams"),
    "Locations": ("Things", "HistoricalLocations"),
    "HistoricalLocations": ("Thing", "Locations"),
    "Datastreams": ("Thing", "Sensor", "ObservedProperty", "Observations"),
    "Sensors": ("Datastreams",),
    "ObservedProperties": ("Datastreams",),
    "Observations": ("Datastream", "FeatureOfInterest"),
    "FeaturesOfInterest": ("Observations",),
}


def check_keys(entity_set: str, singular: str, body: dict[str, Any]) -> None:
    """400 for a property the entity type does not have (annotations are ignored)."""
    known = {f.name for f in FIELDS.get(entity_set, ())} | set(NAVIGATIONS[entity_set])
    if entity_set == "Observations":
        known |= set(OBSERVATION_PROPERTIES)
    for key in body:
        if "@" in key:
            continue  # @iot.id, @iot.selfLink, Nav@iot.navigationLink: annotations
        if key not in known:
            raise StaError(400, f"{singular} has no property {key!r}.")


def assign(
    entity_set: str,
    targets: dict[str, models.Model],
    body: dict[str, Any],
    *,
    creating: bool,
    replace: bool,
) -> set[str]:
    """Parse and set the plain properties of ``body`` on ``targets`` (attribute → the
    instance that holds it; Things spread over node and Thing row). Mandatory ones must
    be there on create and PUT; PUT resets the optional ones it leaves out. Returns the
    STA properties that were set."""
    done = set()
    for field in FIELDS[entity_set]:
        if field.name in body:
            value = body[field.name]
            if value is None and field.required:
                raise v.bad(field.name, "is mandatory and must not be null")
            parsed = None if value is None else field.parse(field.name, value)
            if field.attr is None:
                continue
            _set(targets, field.attr, parsed)
            done.add(field.name)
        elif field.required and (creating or replace):
            raise StaError(400, f"Missing mandatory property {field.name!r}.")
        elif replace and field.attr is not None:
            _set(targets, field.attr, field.default())
            done.add(field.name)
    for geometry_attr in ("location", "feature"):
        if any(geometry_attr == f.attr for f in FIELDS[entity_set]):
            instance = _holder(targets, geometry_attr)
            # Any encodingType is stored (an address as text beside a Point); GeoJSON is
            # checked and gives the bounding box of the geospatial filters.
            geojson = getattr(instance, "encoding_type", "") in v.GEOJSON_TYPES
            if geojson and (geometry_attr in done or "encodingType" in done):
                v.geometry(geometry_attr, getattr(instance, geometry_attr))
            box = v.bbox(getattr(instance, geometry_attr)) if geojson else None
            instance.min_lon, instance.min_lat, instance.max_lon, instance.max_lat = (  # type: ignore[attr-defined]
                box if box is not None else (None, None, None, None)
            )
    return done


def _holder(targets: dict[str, models.Model], attr: str) -> models.Model:
    return targets.get(attr) or targets["*"]


def _set(targets: dict[str, models.Model], attr: str, value: Any) -> None:
    setattr(_holder(targets, attr), attr, value)
