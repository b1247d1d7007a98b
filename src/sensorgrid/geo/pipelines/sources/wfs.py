"""OGC WFS GetFeature, with GeoJSON or GML output.

The request is a plain key-value GetFeature (no GetCapabilities round trip). GML is
read with the standard library's XML parser; OWSLib names the coordinate system.

GML limits (no GDAL): GML 2/3 Point, LineString, Polygon (with holes), LinearRing,
MultiPoint, MultiLineString/MultiCurve, MultiPolygon/MultiSurface made of those, in
WGS 84 only (EPSG:4326 or CRS84; ask the server with the option srs). Curves with
arcs, Solids and other coordinate systems are refused with a message. Properties are
the feature's simple child elements (text); nested ones are left out.
"""

import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from owslib.crs import Crs

from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Request, Source
from sensorgrid.geo.pipelines.sources.geojson import features as geojson_features
from sensorgrid.geo.pipelines.sources.text import load_json

GML_NAMESPACES = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")


class WFSSource(Source):
    key = "wfs"
    description = (
        "OGC WFS GetFeature; options url (service endpoint), type_name, version (2.0.0), "
        "output_format (application/json or GML, e.g. text/xml; subtype=gml/3.2), srs "
        "(EPSG:4326), count, bbox, axis_order (xy or yx, to override the guess)."
    )
    required = ("url", "type_name")

    def check_options(self, options: dict) -> None:
        super().check_options(options)
        if options.get("axis_order") not in (None, "xy", "yx"):
            raise ValueError("axis_order must be xy (lon, lat) or yx (lat, lon).")

    def request(self, options: dict) -> Request:
        version = options.get("version") or "2.0.0"
        two = version.startswith("2")
        params = {
            "service": "WFS",
            "version": version,
            "request": "GetFeature",
            ("typeNames" if two else "typeName"): options["type_name"],
            "outputFormat": options.get("output_format") or "application/json",
            "srsName": options.get("srs") or "EPSG:4326",
        }
        if options.get("count"):
            params["count" if two else "maxFeatures"] = int(options["count"])
        if options.get("bbox"):
            params["bbox"] = options["bbox"]
        url = options["url"]
        return Request(url=url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params))

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        if payload.lstrip()[:1] in (b"{", b"["):
            yield from geojson_features(load_json(payload, options, "WFS answer"))
        else:
            yield from gml_features(payload, options.get("axis_order"))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_gml(element: ET.Element) -> bool:
    return element.tag.startswith("{") and element.tag[1:].split("}")[0] in GML_NAMESPACES


def gml_features(payload: bytes, axis_order: str | None = None) -> Iterator[Item | Skip]:
    """Items of a WFS GML FeatureCollection (WFS 1.x featureMember(s), 2.0 member)."""
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as exc:
        raise PipelineError(f"the WFS answer is neither JSON nor XML: {exc}") from None
    if _local(root.tag) in ("ExceptionReport", "ServiceExceptionReport"):
        texts = [t.text.strip() for t in root.iter() if t.text and t.text.strip()]
        raise PipelineError("the WFS server reports an error: " + " ".join(texts)[:500])
    if _local(root.tag) != "FeatureCollection":
        raise PipelineError(f"the WFS answer is a {_local(root.tag)}, not a FeatureCollection")
    default_srs = root.get("srsName")
    number = 0
    for member in root:
        if _local(member.tag) not in ("member", "featureMember", "featureMembers"):
            continue
        for feature in member:
            number += 1
            fid = (
                feature.get(f"{{{GML_NAMESPACES[1]}}}id")
                or feature.get(f"{{{GML_NAMESPACES[0]}}}id")
                or feature.get("fid")
            )
            ref = f"feature {fid or number}"
            try:
                geometry, properties = _feature(feature, default_srs, axis_order)
            except ValueError as exc:
                yield Skip(ref, str(exc))
                continue
            if geometry is None:
                yield Skip(ref, "no GML geometry")
                continue
            yield Item(ref=ref, properties=properties, geometry=geometry, external_id=fid)


def _feature(feature: ET.Element, srs: str | None, axis_order: str | None):
    geometry, properties = None, {}
    for child in feature:
        name = _local(child.tag)
        if _is_gml(child) and name in ("boundedBy", "location"):
            continue
        shapes = [g for g in child if _is_gml(g)]
        if shapes and geometry is None:
            geometry = _geometry(shapes[0], srs, axis_order)
        elif len(child) == 0:
            properties[name] = (child.text or "").strip()
    return geometry, properties


def _geometry(element: ET.Element, srs: str | None, axis_order: str | None) -> dict:
    srs = element.get("srsName") or srs
    order = axis_order or _axis_order(srs)
    name = _local(element.tag)
    if name == "Point":
        return {"type": "Point", "coordinates": _positions(element, order)[0]}
    if name in ("LineString", "Curve"):
        return {"type": "LineString", "coordinates": _positions(element, order)}
    if name in ("Polygon", "Surface"):
        return {"type": "Polygon", "coordinates": _rings(element, order)}
    if name == "LinearRing":
        return {"type": "Polygon", "coordinates": [_positions(element, order)]}
    members = [g for m in element.iter() for g in m if _is_gml(g) and _local(g.tag) in _SINGLE]
    if name == "MultiPoint":
        return {"type": "MultiPoint", "coordinates": [_positions(p, order)[0] for p in members]}
    if name in ("MultiLineString", "MultiCurve"):
        return {"type": "MultiLineString", "coordinates": [_positions(m, order) for m in members]}
    if name in ("MultiPolygon", "MultiSurface"):
        return {"type": "MultiPolygon", "coordinates": [_rings(m, order) for m in members]}
    raise ValueError(f"GML {name} is not supported (see the limits in docs/pipelines.md)")


_SINGLE = ("Point", "LineString", "Polygon", "Curve", "Surface")


def _rings(polygon: ET.Element, order: str) -> list:
    rings = []
    for boundary in polygon.iter():
        if _local(boundary.tag) in ("exterior", "interior", "outerBoundaryIs", "innerBoundaryIs"):
            ring = next((r for r in boundary.iter() if _local(r.tag) == "LinearRing"), None)
            if ring is None:
                raise ValueError("a polygon boundary without a LinearRing (arcs are not supported)")
            rings.append(_positions(ring, order))
    if not rings:
        raise ValueError("a polygon without rings")
    return rings


def _positions(element: ET.Element, order: str) -> list[list[float]]:
    """Coordinates of gml:pos, gml:posList or GML 2 gml:coordinates below ``element``."""
    numbers: list[list[float]] = []
    for node in element.iter():
        name = _local(node.tag)
        text = (node.text or "").strip()
        if name == "pos":
            numbers.append(_floats(text.split()))
        elif name == "posList":
            dimension = int(node.get("srsDimension") or node.get("dimension") or 2)
            flat = _floats(text.split())
            if len(flat) % dimension:
                raise ValueError("a posList whose length does not fit its dimension")
            numbers.extend(flat[i : i + dimension] for i in range(0, len(flat), dimension))
        elif name == "coordinates":
            numbers.extend(_floats(pair.split(",")) for pair in text.split())
    if not numbers or any(len(p) < 2 for p in numbers):
        raise ValueError(f"GML {_local(element.tag)} without coordinates")
    if order == "yx":
        return [[p[1], p[0]] for p in numbers]
    return [[p[0], p[1]] for p in numbers]


def _floats(parts: list[str]) -> list[float]:
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"coordinates that are not numbers: {' '.join(parts)[:60]}") from None


def _axis_order(srs: str | None) -> str:
    if not srs:
        return "xy"
    crs = Crs(srs)
    if str(crs.code) not in ("4326", "CRS84"):
        raise PipelineError(
            f"the features are in {srs}; without GDAL only WGS 84 is supported: ask the "
            "server for it with the option srs: EPSG:4326"
        )
    # URN and http://www.opengis.net/def forms follow EPSG's latitude-first order;
    # the short EPSG:4326 and CRS84 are longitude first in practice.
    if str(crs.code) == "4326" and (srs.startswith("urn:") or "/def/crs/" in srs):
        return "yx"
    return "xy"
