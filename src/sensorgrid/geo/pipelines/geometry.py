"""Geometry checks with shapely: well-formed, valid, in WGS 84 range, of the layer's type."""

import json
import math

from sensorgrid.geo.pipelines.extras import require

ANY = "any"


def check(geometry: dict, expected: str = ANY, repair: bool = False):
    """The normalised GeoJSON geometry and its bbox; ValueError with the reason if unusable."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise ValueError("geometry is not a GeoJSON geometry object")
    shapely = require("shapely")
    require("shapely.geometry")
    try:
        geom = shapely.geometry.shape(geometry)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        shapely.errors.ShapelyError,
    ) as exc:
        raise ValueError(f"malformed {geometry.get('type')} geometry: {exc}") from None
    if geom.is_empty:
        raise ValueError("empty geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ValueError("geometry has coordinates that are not finite numbers")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise ValueError(
            f"coordinates outside longitude/latitude range ({minx:g} {miny:g}, {maxx:g} {maxy:g}); "
            "is the source in another coordinate system, or are x and y swapped?"
        )
    if not geom.is_valid:
        if not repair:
            raise ValueError(
                f"invalid {geom.geom_type}: {shapely.is_valid_reason(geom)} "
                "(set option repair: true to fix such geometries)"
            )
        geom = shapely.make_valid(geom)
    kind = geom.geom_type
    if expected != ANY and kind not in (expected, f"Multi{expected}"):
        raise ValueError(f"a {kind}, but the layer holds {expected} features")
    return json.loads(json.dumps(shapely.geometry.mapping(geom))), (minx, miny, maxx, maxy)


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}
