"""Where an iCalendar event takes place, and whether that lies in the declared area.

In this order: the GEO property (``latitude;longitude`` by RFC 5545; the option
``geo_axis: lonlat`` reads feeds that write it the other way round), Apple's
``X-APPLE-STRUCTURED-LOCATION`` (a ``geo:latitude,longitude`` URI, RFC 5870), the
option ``locations`` by the event's LOCATION name, the option ``default_location``.
"""

import math
from dataclasses import dataclass
from typing import Any

BBOX_FORMAT = "min_lon,min_lat,max_lon,max_lat in degrees, e.g. 13.08,52.33,13.77,52.68"


@dataclass(frozen=True, slots=True)
class Place:
    """A point ([lon, lat]) and what it came from, for messages."""

    coordinates: tuple[float, float]
    origin: str  # "GEO", "X-APPLE-STRUCTURED-LOCATION", "locations", "default_location"


@dataclass(frozen=True, slots=True)
class Area:
    """The area a feed's places are declared to lie in (WGS 84; west > east crosses 180°)."""

    west: float
    south: float
    east: float
    north: float
    text: str

    @classmethod
    def parse(cls, text: str) -> "Area":
        parts = str(text).split(",")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"bbox: {text!r} is not {BBOX_FORMAT}") from None
        values = (west, south, east, north)
        if not (
            all(math.isfinite(v) for v in values)
            and -180 <= west <= 180
            and -180 <= east <= 180
            and -90 <= south <= north <= 90
        ):
            raise ValueError(f"bbox: {text!r} is not {BBOX_FORMAT}")
        return cls(west, south, east, north, str(text))

    def contains(self, lon: float, lat: float) -> bool:
        if not self.south <= lat <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= lon <= self.east
        return lon >= self.west or lon <= self.east  # across the antimeridian


def place(event: Any, options: dict[str, Any], locations: dict[str, Any]) -> Place | str:
    """The event's place, or why it has none (the reason a record is skipped)."""
    geo = event.get("GEO")
    if geo is not None:
        try:
            first, second = float(geo.latitude), float(geo.longitude)
        except (AttributeError, ValueError, TypeError):  # icalendar keeps it as vBroken
            raise ValueError(f"GEO {str(geo)!r} is not latitude;longitude") from None
        lat, lon = (second, first) if options.get("geo_axis") == "lonlat" else (first, second)
        return Place((lon, lat), "GEO")
    apple = event.get("X-APPLE-STRUCTURED-LOCATION")
    if apple is not None:
        return Place(geo_uri(str(apple)), "X-APPLE-STRUCTURED-LOCATION")
    location = str(event.get("LOCATION") or "").strip()
    if location.lower() in locations:
        lon, lat = locations[location.lower()]
        return Place((float(lon), float(lat)), "locations")
    default = options.get("default_location")
    if default:
        return Place((float(default[0]), float(default[1])), "default_location")
    why = f"location {location!r} is not in the option locations" if location else "no place"
    return f"no GEO coordinates ({why})"


def geo_uri(uri: str) -> tuple[float, float]:
    """(lon, lat) of a ``geo:lat,lon[,alt][;params]`` URI (RFC 5870)."""
    scheme, _, rest = uri.strip().partition(":")
    coordinates = rest.split(";", 1)[0].split(",")
    if scheme.lower() != "geo" or len(coordinates) not in (2, 3):
        raise ValueError(f"X-APPLE-STRUCTURED-LOCATION {uri!r} is not a geo:lat,lon URI")
    try:
        lat, lon = float(coordinates[0]), float(coordinates[1])
    except ValueError:
        raise ValueError(f"X-APPLE-STRUCTURED-LOCATION {uri!r} is not a geo:lat,lon URI") from None
    return lon, lat


def outside(point: Place, area: Area) -> str:
    """The warning for a point outside the declared area, with the likely cause."""
    lon, lat = point.coordinates
    message = (
        f"the point {lon:g} {lat:g} (longitude latitude, from {point.origin}) lies outside "
        f"the area bbox {area.text}"
    )
    if point.origin == "GEO" and area.contains(lat, lon):
        return message + ": GEO seems to be written longitude first (option geo_axis: lonlat)"
    if point.origin == "GEO":
        return message + ": is the option geo_axis right?"
    return message
