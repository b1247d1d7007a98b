"""OSM relations answered with ``out geom``: multipolygons become MultiPolygons.

Overpass gives a relation's member ways with their coordinates, not joined: an outer
ring is often split over several ways, and inner rings (courtyards) are members of
their own. The rings are assembled with shapely (``polygonize`` joins the pieces),
the inner ones cut out of the outer ones. Other relations (routes) become
MultiLineStrings of their member ways.
"""

from typing import Any

from sensorgrid.geo.pipelines.extras import require

#: Relation types whose members are rings of an area.
AREAS = ("multipolygon", "boundary")


def geometry(element: dict[str, Any]) -> dict[str, Any] | None:
    """The GeoJSON geometry of a relation with member geometries, else None."""
    members = element.get("members")
    if not isinstance(members, list):
        return None
    lines: dict[str, list[list[list[float]]]] = {"outer": [], "inner": [], "": []}
    for member in members:
        points = member.get("geometry") if isinstance(member, dict) else None
        if member.get("type") != "way" or not isinstance(points, list) or len(points) < 2:
            continue
        line = [[p["lon"], p["lat"]] for p in points if isinstance(p, dict) and "lon" in p]
        role = member.get("role") if member.get("role") in ("outer", "inner") else ""
        lines[role].append(line)
    if not any(lines.values()):
        return None
    tags = element.get("tags") or {}
    if tags.get("type") in AREAS and (lines["outer"] or lines[""]):
        return _areas(lines["outer"] + lines[""], lines["inner"])
    every = lines["outer"] + lines["inner"] + lines[""]
    return {"type": "MultiLineString", "coordinates": every}


def _areas(outer: list, inner: list) -> dict[str, Any] | None:
    shapely = require("shapely")
    ops = require("shapely.ops")
    geometry = require("shapely.geometry")
    shell = ops.unary_union(list(ops.polygonize([geometry.LineString(p) for p in outer])))
    if shell.is_empty:
        raise ValueError("the outer ways of the multipolygon do not close into rings")
    holes = list(ops.polygonize([geometry.LineString(p) for p in inner]))
    area = shell.difference(ops.unary_union(holes)) if holes else shell
    if area.geom_type == "Polygon":
        area = geometry.MultiPolygon([area])
    if not isinstance(area, shapely.MultiPolygon):
        raise ValueError(f"the multipolygon's rings make a {area.geom_type}")
    return dict(geometry.mapping(area))
