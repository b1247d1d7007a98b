"""Coordinate systems: which axis comes first, and reprojection to WGS 84 (pyproj, no GDAL).

Sources hand over coordinates in x/y order (easting or longitude first) together with
the name of the system they are in; ``to_wgs84`` turns them into WGS 84 longitude /
latitude and checks that they lie in the system's area of use, which catches a wrong
``srs`` and swapped axes (a swapped UTM pair lands thousands of kilometres away).

Axis order of a *declared* name (GML ``srsName``, WFS ``srsName``) follows the EPSG
definition, as WFS 1.1 and 2.0 require: ``EPSG:4326`` and its URN/URL forms are
latitude first, CRS84 is longitude first, ``EPSG:25832`` is easting first; WFS 1.0
and the GML 2 form ``http://www.opengis.net/gml/srs/epsg.xml#4326`` are always x/y.
GeoJSON and WKT coordinates are x/y whatever their ``crs`` says (RFC 7946 and what
GeoServer writes: a ``urn:ogc:def:crs:EPSG::4326`` member over longitude-first pairs).
"""

import re
import threading
from dataclasses import dataclass
from typing import Any

from sensorgrid.geo.pipelines.extras import require

#: Degrees a point may lie outside a system's area of use: national data sets use a
#: UTM zone well beyond its 6° strip (all of Germany in EPSG:25832 reaches 15°E).
MARGIN = 5.0

_EPSG = re.compile(r"epsg(?:\.xml#|::?|/[\d.]+/)(\d+)\s*$", re.IGNORECASE)
_local = threading.local()  # pyproj transformers are not shared between threads


@dataclass(frozen=True, slots=True)
class System:
    """A coordinate system as pyproj understands it."""

    name: str  # as declared
    label: str  # "EPSG:25832 (ETRS89 / UTM zone 32N)"
    lat_first: bool  # the definition puts northing/latitude first
    wgs84: bool  # WGS 84 degrees once in x/y order: nothing to transform
    area: tuple[float, float, float, float] | None  # west, south, east, north
    transformer: Any  # pyproj Transformer to WGS 84, always x/y; None if wgs84


def normalised(name: str) -> str:
    """A form PROJ reads: the GML 2 URL and urn:x-ogc spellings become EPSG:<code>."""
    text = name.strip()
    if "crs84" in text.lower():
        return "OGC:CRS84"
    match = _EPSG.search(text)
    return f"EPSG:{match.group(1)}" if match else text


def system(name: str) -> System:
    """The system ``name`` denotes; ValueError if PROJ does not know it."""
    cache: dict[str, System] = _local.__dict__.setdefault("systems", {})
    found = cache.get(name)
    if found is None:
        found = cache[name] = _system(name)
    return found


def _system(name: str) -> System:
    pyproj = require("pyproj")
    try:
        crs = pyproj.CRS.from_user_input(normalised(name))
    except pyproj.exceptions.CRSError:
        raise ValueError(
            f"unknown coordinate system {name!r}; use an EPSG code such as EPSG:25832"
        ) from None
    wgs84 = crs.equals(pyproj.CRS("EPSG:4326"), ignore_axis_order=True)
    area = crs.area_of_use.bounds if crs.area_of_use else None
    code = crs.to_authority()
    label = f"{':'.join(code)} ({crs.name})" if code else crs.name
    first = crs.axis_info[0].direction.lower() if crs.axis_info else "east"
    transformer = None if wgs84 else pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return System(name, label, first in ("north", "south"), wgs84, area, transformer)


def check(name: str) -> None:
    """ValueError naming the problem if ``name`` is no coordinate system (option ``srs``)."""
    system(name)


def declared_order(name: str, wfs_version: str = "2.0.0") -> str:
    """ "yx" if coordinates declared in ``name`` (GML, WFS) come latitude/northing first."""
    lowered = name.strip().lower()
    if "gml/srs/epsg.xml#" in lowered:
        return "xy"  # GML 2's URL form is x/y by definition
    if wfs_version.startswith("1.0"):
        return "xy"  # WFS 1.0.0 predates axis order: always easting/longitude first
    return "yx" if system(name).lat_first else "xy"


def request_name(name: str) -> str:
    """The unambiguous URN of ``name`` to ask a WFS ≥ 1.1 for: servers disagree about
    whether the short EPSG:4326 is latitude first, nobody about the URN."""
    normal = normalised(name)
    if normal == "OGC:CRS84":
        return "urn:ogc:def:crs:OGC:1.3:CRS84"
    if normal.startswith("EPSG:") and normal[5:].isdigit():
        return f"urn:ogc:def:crs:EPSG::{normal[5:]}"
    return name


def is_wgs84(name: str | None) -> bool:
    return not name or system(name).wgs84


def swap(geometry: dict) -> dict:
    """``geometry`` with x and y exchanged (a source that writes latitude first)."""
    if not isinstance(geometry, dict):
        return geometry  # not a geometry: the check after says so
    if isinstance(geometry.get("geometries"), list):
        return {**geometry, "geometries": [swap(g) for g in geometry["geometries"]]}
    return {**geometry, "coordinates": _map(geometry.get("coordinates"), _swapped)}


def to_wgs84(geometry: dict, name: str | None) -> dict:
    """``geometry`` (x/y order, in ``name``) in WGS 84 longitude/latitude.

    ValueError if the coordinates cannot be transformed or land outside the system's
    area of use (wrong ``srs``, or latitude and longitude swapped).
    """
    if not name or not isinstance(geometry, dict):
        return geometry
    if isinstance(geometry.get("geometries"), list):
        return {**geometry, "geometries": [to_wgs84(g, name) for g in geometry["geometries"]]}
    crs = system(name)
    coordinates = geometry.get("coordinates")
    if crs.transformer is not None:
        positions: list[list[Any]] = []
        _map(coordinates, positions.append)
        try:
            xs, ys = crs.transformer.transform(
                [float(p[0]) for p in positions], [float(p[1]) for p in positions]
            )
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"coordinates that are not numbers in {crs.label}") from None
        moved = iter(zip(xs, ys, strict=True))
        coordinates = _map(coordinates, lambda p: [*next(moved), *p[2:]])
    if crs.area is not None:
        _inside(coordinates, crs)
    return {**geometry, "coordinates": coordinates}


def _inside(coordinates: Any, crs: System) -> None:
    positions: list[list[Any]] = []
    _map(coordinates, positions.append)
    west, south, east, north = crs.area  # type: ignore[misc]
    for position in positions:
        lon, lat = float(position[0]), float(position[1])
        if lon != lon or lat != lat or abs(lon) == float("inf") or abs(lat) == float("inf"):
            raise ValueError(f"coordinates that {crs.label} cannot transform")
        within_lon = (
            west - MARGIN <= lon <= east + MARGIN
            if west <= east  # an area across the antimeridian has west > east
            else lon >= west - MARGIN or lon <= east + MARGIN
        )
        if not (within_lon and south - MARGIN <= lat <= north + MARGIN):
            raise ValueError(
                f"the point {lon:.5g} {lat:.5g} (longitude latitude) lies outside the area "
                f"of use of {crs.label} ({west:g}…{east:g}°E, {south:g}…{north:g}°N): is the "
                "option srs right, or are x and y swapped (option axis_order)?"
            )


def _swapped(position: list[Any]) -> list[Any]:
    return [position[1], position[0], *position[2:]] if len(position) >= 2 else position


def _map(coordinates: Any, function: Any) -> Any:
    """Apply ``function`` to every position of a GeoJSON coordinates array."""
    if isinstance(coordinates, list | tuple) and coordinates:
        if all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
            return function(list(coordinates))
        return [_map(c, function) for c in coordinates]
    return coordinates
