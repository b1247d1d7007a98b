"""The field-strength map: where the viewer's nodes were heard, and how well.

Each reception counts at the place its uplink was sent from: the device's own
position if the message carried one (``Reception.latitude``/``longitude``), else the
site of the node's installation at the time of the reception. Receptions are summed
up in square cells of ``cell`` degrees by the database (two GROUP BY statements, one
per kind of place), so the answer's size depends on the area shown, not on how many
receptions there are. A cell's colour is its best RSSI: the strongest reception of any
gateway from there (docs/lorawan.md, "Radio view").
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Floor

#: Bounds of ``cell`` (degrees): ~10 m to ~500 km at the equator.
MIN_CELL = 0.0001
MAX_CELL = 5.0


@dataclass(slots=True)
class Cell:
    row: int  # floor(latitude / size)
    column: int  # floor(longitude / size)
    best_rssi: float
    receptions: int


@dataclass(frozen=True, slots=True)
class Area:
    """A latitude/longitude box; ``west > east`` crosses the antimeridian."""

    west: float
    south: float
    east: float
    north: float

    def q(self, latitude: str, longitude: str) -> Q:
        inside = Q(**{f"{latitude}__gte": self.south, f"{latitude}__lte": self.north})
        if self.west <= self.east:
            return inside & Q(**{f"{longitude}__gte": self.west, f"{longitude}__lte": self.east})
        return inside & (
            Q(**{f"{longitude}__gte": self.west}) | Q(**{f"{longitude}__lte": self.east})
        )


def cells(
    receptions: QuerySet,
    size: float,
    start: datetime,
    end: datetime,
    area: Area | None = None,
) -> list[Cell]:
    """The cells of ``size`` degrees where ``receptions`` (already walled) in [start, end)
    were sent from, with their best RSSI and number of receptions."""
    heard = receptions.filter(ts__gte=start, ts__lt=end, rssi__isnull=False).order_by()
    merged: dict[tuple[int, int], Cell] = {}

    located = heard.filter(latitude__isnull=False, longitude__isnull=False)
    if area is not None:
        located = located.filter(area.q("latitude", "longitude"))
    rows = (
        located.annotate(
            row=Floor(F("latitude") / size),
            column=Floor(F("longitude") / size),
        )
        .values("row", "column")
        .annotate(best=Max("rssi"), n=Count("pk"))
    )
    for row in rows:
        _merge(merged, int(row["row"]), int(row["column"]), row["best"], row["n"])

    # The installation in place when the uplink was heard: every condition on the
    # installation in ONE filter(), so they apply to the same installation row.
    site = "node__installations__room__site"
    placed = Q(
        latitude__isnull=True,
        node__installations__start__lte=F("ts"),
        **{f"{site}__latitude__isnull": False, f"{site}__longitude__isnull": False},
    ) & (Q(node__installations__end__isnull=True) | Q(node__installations__end__gt=F("ts")))
    if area is not None:
        placed &= area.q(f"{site}__latitude", f"{site}__longitude")
    rows = (
        heard.filter(placed)
        .values(lat=F(f"{site}__latitude"), lon=F(f"{site}__longitude"))
        .annotate(best=Max("rssi"), n=Count("pk"))
    )
    for row in rows:
        column = math.floor(row["lon"] / size)
        _merge(merged, math.floor(row["lat"] / size), column, row["best"], row["n"])
    return sorted(merged.values(), key=lambda c: (c.row, c.column))


def _merge(merged: dict, row: int, column: int, best: float, count: int) -> None:
    cell = merged.get((row, column))
    if cell is None:
        merged[(row, column)] = Cell(row, column, best, count)
    else:
        cell.best_rssi = max(cell.best_rssi, best)
        cell.receptions += count


def feature(cell: Cell, size: float) -> dict:
    """A cell as a GeoJSON polygon (its square, counter-clockwise)."""
    south, west = cell.row * size, cell.column * size
    north, east = south + size, west + size
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]],
        },
        "properties": {"best_rssi": cell.best_rssi, "receptions": cell.receptions},
    }
