"""Vehicles on the map (issue 22, the fleet view): nodes that report a position.

A vehicle is any node with a latest ``latitude`` and ``longitude`` value (the vehicle
decoder stores a payload's ``location`` so; docs/devices.md). Positions are the stored
values, at full precision. Tenancy as the node locations: members see their
organizations' vehicles; everybody sees a vehicle while an active public installation
publishes it, and only what it measured since that installation began.

- ``GET /api/geo/vehicles/``: a FeatureCollection, one Point per vehicle at its newest
  position, with speed, heading, when, online (newest position at most
  ``SENSORGRID_FLEET_ONLINE_SECONDS`` old) and its track of the last ``track`` minutes.
- ``GET /api/geo/vehicles/<node>/track/?start=&end=``: the positions (and speeds,
  headings) between two instants, at most one day, as a LineString with the times.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from sensorgrid.geo.api import params
from sensorgrid.geo.api.views import RESPONSES, _GeoView
from sensorgrid.inventory.models import Installation, Node, Quantity
from sensorgrid.isotime import iso
from sensorgrid.storable import MAX_ID
from sensorgrid.telemetry.models import Latest, Sample
from sensorgrid.tenancy.scoping import Action, organization_ids, sees_everything

#: what a vehicle reports, besides its position
KEYS = ("latitude", "longitude", "speed", "heading")
#: the recent track of each vehicle: minutes back (default), and most points per vehicle
TRACK_MINUTES = 60
TRACK_MAX_MINUTES = 24 * 60
TRACK_POINTS = 360
#: the longest span one track request may cover, and the most points it returns
REPLAY_SPAN = timedelta(days=1)
REPLAY_POINTS = 20_000


@dataclass
class Vehicle:
    node: Node
    member: bool
    since: datetime | None  # a public installation's start: nothing older is shown
    latest: dict[str, tuple[datetime, float]] = field(default_factory=dict)

    @property
    def ts(self) -> datetime:
        return max(self.latest["latitude"][0], self.latest["longitude"][0])


def quantity_ids() -> dict[str, int]:
    return dict(Quantity.objects.filter(key__in=KEYS).values_list("key", "pk"))


def _public_since(user, nodes: list[Node], now: datetime) -> dict[int, datetime]:
    """Nodes ``user`` reads only through a public installation → its start."""
    member_of = organization_ids(user, Action.VIEW)
    outside = [n.pk for n in nodes if n.organization_id not in member_of]
    if not outside or sees_everything(user):
        return {}
    starts = (
        Installation.objects.active(now)
        .filter(is_public=True, node_id__in=outside)
        .values_list("node_id", "start")
    )
    return dict(starts)


def vehicles(user, now: datetime | None = None) -> list[Vehicle]:
    """The vehicles ``user`` may see now, by name."""
    now = now or timezone.now()
    ids = quantity_ids()
    if "latitude" not in ids or "longitude" not in ids:
        return []
    readable = Node.objects.readable_by(user, now)
    placed = Latest.objects.filter(quantity_id=ids["latitude"], node__in=readable).values("node_id")
    nodes = list(readable.filter(pk__in=placed).select_related("organization", "model"))
    member_of = organization_ids(user, Action.VIEW)
    since = _public_since(user, nodes, now)
    found = {
        n.pk: Vehicle(n, sees_everything(user) or n.organization_id in member_of, since.get(n.pk))
        for n in nodes
    }
    keys = {pk: key for key, pk in ids.items()}
    rows = Latest.objects.filter(node_id__in=found, quantity_id__in=keys).values_list(
        "node_id", "quantity_id", "ts", "value"
    )
    for node_id, quantity_id, ts, value in rows:
        vehicle = found[node_id]
        if vehicle.since is None or ts >= vehicle.since:
            vehicle.latest[keys[quantity_id]] = (ts, value)
    shown = [v for v in found.values() if "latitude" in v.latest and "longitude" in v.latest]
    return sorted(shown, key=lambda v: (str(v.node).lower(), v.node.pk))


def online(ts: datetime, now: datetime) -> bool:
    return (now - ts).total_seconds() <= settings.SENSORGRID_FLEET_ONLINE_SECONDS


def tracks(
    vehicles: list[Vehicle], start: datetime, end: datetime, keys: tuple[str, ...] = KEYS
) -> dict[int, list[list]]:
    """Per vehicle: [[epoch seconds, lat, lon, speed, heading], …] between two instants,
    oldest first; a value a message did not carry is None."""
    ids = quantity_ids()
    by_pk = {ids[k]: k for k in keys if k in ids}
    since = {v.node.pk: max(start, v.since) if v.since else start for v in vehicles}
    rows = (
        Sample.objects.filter(node_id__in=since, quantity_id__in=by_pk, ts__gte=start, ts__lte=end)
        .order_by("node_id", "ts")
        .values_list("node_id", "ts", "quantity_id", "value")
    )
    points: dict[int, dict[datetime, dict[str, float]]] = defaultdict(dict)
    for node_id, ts, quantity_id, value in rows.iterator(chunk_size=5000):
        if ts < since[node_id]:
            continue
        points[node_id].setdefault(ts, {})[by_pk[quantity_id]] = value
    result = {}
    for node_id, moments in points.items():
        result[node_id] = [
            [ts.timestamp(), v["latitude"], v["longitude"], v.get("speed"), v.get("heading")]
            for ts, v in moments.items()
            if "latitude" in v and "longitude" in v
        ]
    return result


def thinned(points: list, most: int) -> list:
    """At most ``most`` of ``points``, evenly spread, the newest always kept."""
    if len(points) <= most:
        return points
    step = len(points) / most
    kept = [points[int(i * step)] for i in range(most - 1)]
    return [*kept, points[-1]]


def _minutes(query) -> int:
    raw = query.get("track", str(TRACK_MINUTES))
    try:
        minutes = int(raw)
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= TRACK_MAX_MINUTES:
        raise ValidationError({"track": [f"Minutes from 0 to {TRACK_MAX_MINUTES}."]})
    return minutes


def feature(vehicle: Vehicle, now: datetime, track: list | None = None) -> dict:
    latest = vehicle.latest
    node = vehicle.node
    properties = {
        "node": node.pk,
        # A public installation publishes the values, not the node: its device id
        # (in MQTT topics) stays with the members; a stranger sees the alias or a number.
        "name": str(node) if vehicle.member else node.public_label(),
        "organization": node.organization.name,
        "ts": iso(vehicle.ts),
        "online": online(vehicle.ts, now),
        "speed": latest["speed"][1] if "speed" in latest else None,
        "heading": latest["heading"][1] if "heading" in latest else None,
        "is_public": not vehicle.member,
    }
    if vehicle.member:
        properties |= {"device_id": node.device_id, "status": node.status}
    if track is not None:
        properties["track"] = track
    return {
        "type": "Feature",
        "id": f"node/{node.pk}",
        "geometry": {
            "type": "Point",
            "coordinates": [latest["longitude"][1], latest["latitude"][1]],
        },
        "properties": properties,
    }


class VehiclesView(_GeoView):
    @extend_schema(
        operation_id="geo_vehicles",
        summary="Vehicles: nodes with a position (GeoJSON)",
        description="One Point per node with a latest latitude and longitude (full "
        "precision): speed (km/h), heading (°), ts of the newest position, `online` (at "
        "most SENSORGRID_FLEET_ONLINE_SECONDS old) and `track`: [epoch s, lat, lon, "
        "speed, heading] of the last `track` minutes (at most 360 points). Members see "
        "their organizations' vehicles; everybody sees publicly installed ones (values "
        "since the installation only).",
        parameters=[
            OpenApiParameter("track", int, description="Minutes of track (default 60; 0: none).")
        ],
        responses=RESPONSES,
    )
    def get(self, request):
        now = timezone.now()
        minutes = _minutes(request.query_params)
        found = vehicles(request.user, now)
        recent = (
            tracks(found, now - timedelta(minutes=minutes), now, ("latitude", "longitude"))
            if minutes
            else {}
        )
        rows = [
            feature(v, now, [p[:3] for p in thinned(recent.get(v.node.pk, []), TRACK_POINTS)])
            for v in found
        ]
        return Response(
            {
                "type": "FeatureCollection",
                "now": iso(now),
                "online_seconds": settings.SENSORGRID_FLEET_ONLINE_SECONDS,
                "features": rows,
            }
        )


class VehicleTrackView(_GeoView):
    @extend_schema(
        operation_id="geo_vehicle_track",
        summary="A vehicle's track between two instants (GeoJSON)",
        description="A Feature with a LineString of the positions between `start` and "
        "`end` (ISO 8601, at most one day apart; default the last hour) and "
        "`properties.points`: [epoch s, lat, lon, speed, heading] per position, oldest "
        f"first, at most {REPLAY_POINTS} (evenly thinned). A vehicle you may not see is "
        "a 404.",
        parameters=[
            OpenApiParameter("node", int, OpenApiParameter.PATH),
            OpenApiParameter("start", OpenApiTypes.DATETIME),
            OpenApiParameter("end", OpenApiTypes.DATETIME),
        ],
        responses=RESPONSES,
    )
    def get(self, request, node: int):
        now = timezone.now()
        found = next(
            (v for v in vehicles(request.user, now) if v.node.pk == node and node <= MAX_ID),
            None,
        )
        if found is None:
            raise NotFound("No such vehicle visible to you.")
        query = request.query_params
        end = _instant(query, "end") or now
        start = _instant(query, "start") or end - timedelta(hours=1)
        if start >= end:
            raise ValidationError({"start": ["start must be before end."]})
        if end - start > REPLAY_SPAN:
            raise ValidationError({"end": ["At most one day from start to end."]})
        points = thinned(tracks([found], start, end).get(node, []), REPLAY_POINTS)
        return Response(
            {
                "type": "Feature",
                "id": f"node/{node}",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[p[2], p[1]] for p in points],
                },
                "properties": {
                    "node": node,
                    "name": str(found.node) if found.member else found.node.public_label(),
                    "start": iso(start),
                    "end": iso(end),
                    "points": points,
                },
            }
        )


def _instant(query, name: str) -> datetime | None:
    if query.get(name) in (None, ""):
        return None
    try:
        return params.at({"at": query[name]})
    except ValidationError:
        raise ValidationError(
            {name: ["Use an ISO 8601 time such as 2026-05-01T12:00:00Z."]}
        ) from None
