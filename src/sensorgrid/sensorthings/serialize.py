"""Entities as SensorThings JSON: ``@iot.id``, ``@iot.selfLink``, the set's properties,
``<Nav>@iot.navigationLink``, expanded navigations inline.

Values come from the rows ``read.py`` loads (annotated as ``read.prepare`` does):
times in ISO 8601 UTC with ``Z``; intervals as ``start/end``; a samples Observation's
number result as an integer when it is integral (21.0 → 21, so integers round-trip).
"""

import functools
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import models

from sensorgrid.isotime import iso
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet

#: Annotation prefix of a property that lives on a related row (``sta__description``).
RELATED_PREFIX = "_sta_p_"
#: Geometries a Datastream's observedArea is written as (others: null).
OBSERVED_AREA_TYPES = frozenset({"Point", "Polygon", "LineString"})
#: Integral floats up to this are written as integers (beyond, a float is not exact).
EXACT_INTEGER = 2**53


def interval(start: datetime | None, end: datetime | None) -> str | None:
    """``start/end`` in ISO 8601; None without a start."""
    if start is None:
        return None
    return f"{iso(start)}/{iso(end if end is not None else start)}"


def number(value: float | None) -> int | float | None:
    """A sample's value as STA writes it: integral floats as integers."""
    if value is None:
        return None
    if math.isfinite(value) and value == int(value) and abs(value) <= EXACT_INTEGER:
        return int(value)
    return value


def _observation(row: Any, name: str) -> Any:
    if name == "phenomenonTime":
        if row.phenomenon_time_end is not None:
            return interval(row.phenomenon_time, row.phenomenon_time_end)
        return iso(row.phenomenon_time)
    if name == "resultTime":
        return iso(row.result_time)
    if name == "result":
        if row.observation_id is not None:  # the observations store: JSON as posted
            return row.result
        return number(row.result_number)
    if name == "validTime":
        if row.valid_time_start is None:
            return None
        return interval(row.valid_time_start, row.valid_time_end)
    if name == "parameters":
        return row.parameters
    if name == "resultQuality":
        return row.result_quality
    raise KeyError(name)


#: Datastream properties computed from its Observations (``read.DATASTREAM_TIMES``).
DATASTREAM_TIMES = {
    "phenomenonTime": ("_sta_pt_first", "_sta_pt_last", "_sta_pt_last_end"),
    "resultTime": ("_sta_rt_first", "_sta_rt_last", None),
}


#: Set (true) on a Datastream whose observedArea the reader may not read (``read.prepare``).
AREA_HIDDEN = "_sta_area_hidden"


def _datastream_time(row: Any, name: str) -> str | None:
    first_name, last_name, last_end_name = DATASTREAM_TIMES[name]
    first = getattr(row, first_name, None)
    last = getattr(row, last_name, None)
    if last_end_name is not None:
        last_end = getattr(row, last_end_name, None)
        if last_end is not None and (last is None or last_end > last):
            last = last_end
    return interval(first, last) if first is not None else None


def value(entity_set: EntitySet, row: models.Model, name: str) -> Any:
    """The STA property ``name`` of ``row``, as JSON."""
    return _getter(entity_set.name, name)(row)


@functools.cache
def _getter(set_name: str, name: str) -> Callable[[Any], Any]:
    """How ``value`` reads property ``name`` of a row of the set: decided once per
    property, not per row (a large ``$expand`` writes tens of thousands of values)."""
    if name == "id":
        return _pk
    if set_name == "Observations":
        return functools.partial(_observation, name=name)
    if set_name == "Datastreams" and name in DATASTREAM_TIMES:
        return functools.partial(_datastream_time, name=name)
    lookup = ENTITY_SETS[set_name].properties[name]
    related = "__" in lookup
    attribute = RELATED_PREFIX + name if related else lookup
    empty_description = set_name == "Things" and name == "description"
    observed_area = name == "observedArea"

    def get(row: Any) -> Any:
        if observed_area and getattr(row, AREA_HIDDEN, False):
            return None  # not the reader's organization: it sums up what he may not see
        found = getattr(row, attribute, None) if related else getattr(row, attribute)
        if empty_description and found is None:
            return ""  # a node that never had an STA description
        if isinstance(found, datetime):
            return iso(found)
        if observed_area and not (
            isinstance(found, dict) and found.get("type") in OBSERVED_AREA_TYPES
        ):
            return None  # clients (frost-sta-client) parse only these geometries here
        return found

    return get


def _pk(row: Any) -> Any:
    return row.pk


def properties(entity_set: EntitySet) -> list[str]:
    """The set's STA properties in output order (``id`` is ``@iot.id``)."""
    return list(_properties(entity_set.name))


@functools.cache
def _properties(set_name: str) -> tuple[str, ...]:
    names = [name for name in ENTITY_SETS[set_name].properties if name != "id"]
    if set_name == "Datastreams":
        at = names.index("properties") if "properties" in names else len(names)
        names[at:at] = [n for n in DATASTREAM_TIMES if n not in names]
    return tuple(names)


def self_link(base: str, entity_set: EntitySet, pk: object) -> str:
    return f"{base}{entity_set.name}({pk})"


def entity(
    entity_set: EntitySet,
    row: models.Model,
    *,
    base: str,
    select: frozenset[str] | None = None,
    navigation_links: bool = True,
    expanded: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entity. ``select``: the properties and navigations asked for (None: all);
    ``navigation_links``: whether unselected output names them (FROST writes them for
    top-level entities only); ``expanded``: navigation name → what to put inline
    (an entity, a list, and the ``Nav@iot.count`` / ``Nav@iot.nextLink`` keys)."""
    set_name = entity_set.name
    link = f"{base}{set_name}({row.pk})"
    out: dict[str, Any] = {}
    if select is None or "@iot.selfLink" in select:
        out["@iot.selfLink"] = link
    if select is None or "id" in select or "@iot.id" in select:
        out["@iot.id"] = row.pk
    for name in _properties(set_name):
        if select is None or name in select:
            out[name] = _getter(set_name, name)(row)
    for nav in entity_set.navigations:
        if (select is None and navigation_links) or (select is not None and nav in select):
            out[f"{nav}@iot.navigationLink"] = f"{link}/{nav}"
    if expanded:
        out.update(expanded)
    return out


def ref(base: str, entity_set: EntitySet, pk: object) -> dict[str, str]:
    return {"@iot.selfLink": self_link(base, entity_set, pk)}
