"""GeoJSON FeatureCollections (open-data portals, WFS with JSON output)."""

from collections.abc import Iterator

from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Source
from sensorgrid.geo.pipelines.sources.text import load_json


class GeoJSONSource(Source):
    key = "geojson"
    description = "GeoJSON over HTTP; options url. Ids from the feature id or mapping.id."
    coordinates = True

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        yield from features(load_json(payload, options, "GeoJSON document"))


def features(document, default_crs: str | None = None) -> Iterator[Item | Skip]:
    """Items of a GeoJSON FeatureCollection or Feature (shared with the WFS source).

    A ``crs`` member (GeoJSON 2008, still written by WFS servers) names the system of
    the x/y coordinates; without one they are ``default_crs`` (the system a WFS was
    asked for), else the option ``srs``, else WGS 84 as RFC 7946 has it.
    """
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        kind = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise PipelineError(f"not a GeoJSON FeatureCollection (type {kind!r})")
    collection = document.get("features")
    if not isinstance(collection, list):
        raise PipelineError("the FeatureCollection has no features list")
    declared = crs_member(document) or default_crs
    for number, feature in enumerate(collection, start=1):
        ref = f"feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            yield Skip(ref, "not a GeoJSON Feature")
            continue
        if feature.get("geometry") is None:
            yield Skip(ref, "no geometry")
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            yield Skip(ref, "properties is not an object")
            continue
        fid = feature.get("id")
        yield Item(
            ref=f"feature {fid}" if fid is not None else ref,
            properties=properties,
            geometry=feature["geometry"],
            external_id=None if fid is None else str(fid),
            crs=declared,
        )


def crs_member(document: dict) -> str | None:
    """The system a GeoJSON 2008 ``crs`` member names (type name, or an EPSG link)."""
    member = document.get("crs")
    if not isinstance(member, dict) or not isinstance(member.get("properties"), dict):
        return None
    properties = member["properties"]
    if member.get("type") == "EPSG" and properties.get("code") is not None:
        return f"EPSG:{properties['code']}"
    name = properties.get("name")
    return str(name) if name else None
