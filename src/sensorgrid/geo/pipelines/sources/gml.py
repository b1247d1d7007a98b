"""GML feature collections of a WFS, read with the standard library's XML parser.

GML 2/3 Point, LineString, Polygon (with holes), LinearRing, MultiPoint,
MultiLineString/MultiCurve, MultiPolygon/MultiSurface made of those, in any coordinate
system PROJ knows (``srsName`` on the geometry or the collection, else the one the WFS
was asked for). Curves with arcs and Solids are skipped with the reason. Properties are
the feature's simple child elements (text); nested ones are left out.
"""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from sensorgrid.geo.pipelines import crs
from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip

GML_NAMESPACES = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
MEMBERS = ("member", "featureMember", "featureMembers")


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read coordinates: an axis_order override, the CRS asked for, the WFS version."""

    axis_order: str | None = None
    srs: str | None = None
    version: str = "2.0.0"

    def order(self, srs: str | None) -> str:
        if self.axis_order:
            return self.axis_order
        return crs.declared_order(srs, self.version) if srs else "xy"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_gml(element: ET.Element) -> bool:
    return element.tag.startswith("{") and element.tag[1:].split("}")[0] in GML_NAMESPACES


def collection(payload: bytes) -> ET.Element:
    """The FeatureCollection element; PipelineError for an exception report or other XML."""
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as exc:
        raise PipelineError(f"the WFS answer is neither JSON nor XML: {exc}") from None
    if _local(root.tag) in ("ExceptionReport", "ServiceExceptionReport"):
        texts = [t.text.strip() for t in root.iter() if t.text and t.text.strip()]
        raise PipelineError("the WFS server reports an error: " + " ".join(texts)[:500])
    if _local(root.tag) != "FeatureCollection":
        raise PipelineError(f"the WFS answer is a {_local(root.tag)}, not a FeatureCollection")
    return root


def members(root: ET.Element) -> Iterator[ET.Element]:
    """The features of a collection (WFS 1.x featureMember(s), 2.0 member)."""
    for member in root:
        if _local(member.tag) in MEMBERS:
            yield from member


def gml_features(payload: bytes, reading: Reading | None = None) -> Iterator[Item | Skip]:
    """Items of a WFS GML FeatureCollection, coordinates in x/y order with their CRS."""
    reading = reading or Reading()
    root = collection(payload)
    default_srs = root.get("srsName") or _envelope_srs(root) or reading.srs
    number = 0
    for feature in members(root):
        number += 1
        fid = feature_id(feature)
        ref = f"feature {fid or number}"
        try:
            geometry, properties, srs = _feature(feature, default_srs, reading)
        except ValueError as exc:
            yield Skip(ref, str(exc))
            continue
        if geometry is None:
            yield Skip(ref, "no GML geometry")
            continue
        yield Item(
            ref=ref,
            properties=properties,
            geometry=geometry,
            external_id=fid,
            crs=srs,
            ordered=True,
        )


def feature_id(feature: ET.Element) -> str | None:
    """gml:id (GML 3.2 or 3.1) or the GML 2 fid."""
    return (
        feature.get(f"{{{GML_NAMESPACES[1]}}}id")
        or feature.get(f"{{{GML_NAMESPACES[0]}}}id")
        or feature.get("fid")
    )


def _envelope_srs(root: ET.Element) -> str | None:
    for child in root:
        if _local(child.tag) == "boundedBy":
            for envelope in child:
                if envelope.get("srsName"):
                    return envelope.get("srsName")
    return None


def _feature(feature: ET.Element, srs: str | None, reading: Reading):
    geometry, properties, used = None, {}, None
    for child in feature:
        name = _local(child.tag)
        if _is_gml(child) and name in ("boundedBy", "location"):
            continue
        shapes = [g for g in child if _is_gml(g)]
        if shapes and geometry is None:
            used = shapes[0].get("srsName") or srs
            geometry = _geometry(shapes[0], reading.order(used))
        elif len(child) == 0:
            properties[name] = (child.text or "").strip()
    return geometry, properties, used


def _geometry(element: ET.Element, order: str) -> dict:
    name = _local(element.tag)
    if name == "Point":
        return {"type": "Point", "coordinates": _positions(element, order)[0]}
    if name in ("LineString", "Curve"):
        return {"type": "LineString", "coordinates": _positions(element, order)}
    if name in ("Polygon", "Surface"):
        return {"type": "Polygon", "coordinates": _rings(element, order)}
    if name == "LinearRing":
        return {"type": "Polygon", "coordinates": [_positions(element, order)]}
    parts = [g for m in element.iter() for g in m if _is_gml(g) and _local(g.tag) in _SINGLE]
    if name == "MultiPoint":
        return {"type": "MultiPoint", "coordinates": [_positions(p, order)[0] for p in parts]}
    if name in ("MultiLineString", "MultiCurve"):
        return {"type": "MultiLineString", "coordinates": [_positions(m, order) for m in parts]}
    if name in ("MultiPolygon", "MultiSurface"):
        return {"type": "MultiPolygon", "coordinates": [_rings(m, order) for m in parts]}
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
