"""OpenStreetMap data through an Overpass API query (JSON output, plain HTTP).

Nodes become points. Ways need ``out geom`` (closed ways become polygons when the
option ``areas`` is true, the default, else lines) or ``out center`` (points).
Relations with ``out geom`` become MultiPolygons (multipolygons, boundaries) or
MultiLineStrings (routes, see ``osm_relations``); with ``out center`` points.
Ids are ``node/123``, ``way/456``, ``relation/789``.
"""

import urllib.parse
from collections.abc import Iterator

from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Request, Source
from sensorgrid.geo.pipelines.sources import osm_relations
from sensorgrid.geo.pipelines.sources.text import load_json

DEFAULT_ENDPOINT = "https://overpass-api.de/api/interpreter"


class OverpassSource(Source):
    key = "overpass"
    description = "OSM via Overpass; options query (Overpass QL), url (endpoint), areas."
    required = ("query",)
    own_options = {
        "query": {"description": "Overpass QL asking for [out:json]"},
        "areas": {"type": "boolean", "description": "closed ways become polygons (true)"},
    }

    def check_options(self, options: dict) -> None:
        super().check_options(options)
        if not isinstance(options["query"], str):
            raise ValueError("query must be text (Overpass QL).")
        if "[out:json]" not in options["query"].replace(" ", ""):
            raise ValueError("The Overpass query must ask for JSON: start it with [out:json];")

    def request(self, options: dict) -> Request:
        body = urllib.parse.urlencode({"data": options["query"]}).encode()
        return Request(
            url=options.get("url") or DEFAULT_ENDPOINT,
            method="POST",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        document = load_json(payload, options, "Overpass answer")
        if not isinstance(document, dict) or not isinstance(document.get("elements"), list):
            raise PipelineError("the Overpass answer has no elements list")
        remark = document.get("remark") or ""
        if "error" in remark.lower():
            # Overpass answers 200 with a partial result when the query times out; loading
            # it would delete every feature that was cut off.
            raise PipelineError(f"Overpass reports an incomplete answer: {remark}")
        areas = options.get("areas", True)
        for element in document["elements"]:
            kind, osm_id = element.get("type"), element.get("id")
            ref = f"{kind}/{osm_id}"
            if kind not in ("node", "way", "relation") or osm_id is None:
                yield Skip(ref, "not an OSM node, way or relation")
                continue
            try:
                geometry = _geometry(element, areas)
            except ValueError as exc:
                yield Skip(ref, str(exc))
                continue
            if geometry is None:
                yield Skip(ref, "no coordinates; end the query with out geom or out center")
                continue
            properties = {**(element.get("tags") or {}), "osm_type": kind, "osm_id": osm_id}
            yield Item(ref=ref, properties=properties, geometry=geometry, external_id=ref)


def _geometry(element: dict, areas: bool) -> dict | None:
    if "lat" in element and "lon" in element:
        return {"type": "Point", "coordinates": [element["lon"], element["lat"]]}
    points = element.get("geometry")
    if isinstance(points, list) and points and all(isinstance(p, dict) for p in points):
        line = [[p.get("lon"), p.get("lat")] for p in points]
        if areas and len(line) >= 4 and line[0] == line[-1]:
            return {"type": "Polygon", "coordinates": [line]}
        return {"type": "LineString", "coordinates": line}
    if element.get("type") == "relation" and isinstance(element.get("members"), list):
        relation = osm_relations.geometry(element)
        if relation is not None:
            return relation
    center = element.get("center")
    if isinstance(center, dict) and "lat" in center and "lon" in center:
        return {"type": "Point", "coordinates": [center["lon"], center["lat"]]}
    return None
