"""Server-rendered dashboard pages (docs/dashboard.md).

Every object is loaded through a ``for_user`` queryset, so a foreign id is a 404
exactly as in the API. The pages render the current values themselves; the ES
modules in ``static/dashboard/`` then keep them live over ``/ws/live/``.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from sensorgrid.alerts.models import Alert
from sensorgrid.inventory.models import Installation, Node, NodeStatus, Room, Site, public_label
from sensorgrid.storable import MAX_ID
from sensorgrid.telemetry.models import Latest
from sensorgrid.tenancy.scoping import organization_ids
from sensorgrid.tenancy.time_zones import time_zone_of

# Indoor air quality by CO2 (ppm): the one definition. The pages hand it to their
# scripts (the co2 quantity's "levels", the chart's co2_levels) and to the legend.
CO2_GOOD_BELOW = 1000
CO2_POOR_ABOVE = 1400


def co2_levels() -> dict[str, int]:
    """The traffic light's limits as the pages' scripts read them."""
    return {"good_below": CO2_GOOD_BELOW, "poor_above": CO2_POOR_ABOVE}


# Chart presets of the node page: label → (seconds, bucket). tiles.js/node.js read them
# from the page, so this is the one place to change them.
PRESETS = [
    ("1 h", 3600, "raw"),
    ("24 h", 86400, "15m"),
    ("7 d", 7 * 86400, "1h"),
    ("1 y", 365 * 86400, "1d"),
]
DEFAULT_PRESET = "24 h"


def is_indoor(installation: Installation | None) -> bool:
    """Whether the indoor-air traffic light and CO2 bands apply to a node placed so.

    A room marked ``outdoor`` (a schoolyard, a roof terrace) is open air: CO2 there is
    not judged by indoor limits. A node that is not installed keeps the light: nothing
    says it is outdoors.
    """
    return installation is None or not installation.room.outdoor


def co2_level(value: float | None) -> tuple[str, str]:
    """CSS class and text label of a CO2 value: never colour alone."""
    if value is None:
        return "", ""
    if value < CO2_GOOD_BELOW:
        return "good", "Good"
    if value <= CO2_POOR_ABOVE:
        return "fair", "Fair"
    return "poor", "Poor"


# Decimals a value is shown with: one, except coordinates, shown as stored (issue 22:
# a bus at 48.137412° was shown as "48.1", ~10 km off). tiles.js keeps the same table.
DECIMALS = {"latitude": 6, "longitude": 6}


def value_text(quantity: str, value: float) -> str:
    """A value as the tiles show it ("21.5", "48.137412")."""
    return floatformat(value, -DECIMALS.get(quantity, 1))


@dataclass
class Value:
    quantity: str
    name: str
    unit: str
    value: float
    ts: datetime
    indoor: bool = True  # the traffic light is for indoor air only

    @property
    def text(self) -> str:
        return value_text(self.quantity, self.value)

    @property
    def level(self) -> tuple[str, str]:
        return co2_level(self.value) if self.quantity == "co2" and self.indoor else ("", "")

    def as_json(self) -> dict:
        return {
            "quantity": self.quantity,
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "ts": self.ts.isoformat(),
        }


@dataclass
class Tile:
    """A node as the pages show it: name, health, where it is, newest values."""

    node: Node
    installation: Installation | None
    url: str  # the node page, only for members (others would get a 404)
    values: list[Value] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.node.status

    @property
    def status_label(self) -> str:
        return NodeStatus(self.node.status).label

    @property
    def updated(self) -> datetime | None:
        return max((v.ts for v in self.values), default=None)

    @property
    def indoor(self) -> bool:
        return is_indoor(self.installation)

    @property
    def co2(self) -> Value | None:
        return next((v for v in self.values if v.quantity == "co2"), None)

    @property
    def connect_url(self) -> str:
        """The node's Connect page while it never sent a value, for members (issue 19:
        a tile that only says "No values yet" left them without a next step)."""
        if not self.url or self.values or self.node.last_seen is not None:
            return ""
        return reverse("dashboard:node-connect", args=[self.node.pk])

    @property
    def label(self) -> str:
        """The node's name: members (``url`` set) see it whole, others no device id."""
        return str(self.node) if self.url else self.node.public_label()

    def as_json(self) -> dict:
        room = self.installation.room if self.installation else None
        return {
            "id": self.node.pk,
            "label": self.label,
            "device_id": self.node.device_id if self.url else "",
            "status": self.node.status,
            "url": self.url,
            "room": room.name if room else "",
            "site": room.site_id if room else None,
            "indoor": self.indoor,
            "values": [v.as_json() for v in self.values],
        }


def active_installations(user):
    """Installations in place now that ``user`` sees (members: all; others: public)."""
    return (
        Installation.objects.for_user(user)
        .active()
        .select_related("node__organization", "room__site__organization")
    )


def tiles_for(user, installations, nodes=()) -> list[Tile]:
    """Tiles of the installed nodes (and of ``nodes`` not installed anywhere)."""
    member_of = organization_ids(user)
    tiles = []
    for installation in installations:
        node = installation.node
        member = node.organization_id in member_of
        tiles.append(Tile(node, installation, _node_url(node) if member else ""))
    tiles += [Tile(node, None, _node_url(node)) for node in nodes]
    _attach_latest(tiles)
    return tiles


def _node_url(node: Node) -> str:
    return reverse("dashboard:node", args=[node.pk])


def _attach_latest(tiles: list[Tile]) -> None:
    by_node = {t.node.pk: t for t in tiles}
    rows = (
        Latest.objects.filter(node_id__in=by_node)
        .select_related("quantity")
        .order_by("node_id", "quantity__key")
    )
    for row in rows:
        tile = by_node[row.node_id]
        if not tile.url and tile.installation and row.ts < tile.installation.start:
            continue  # a public installation publishes its own period only
        q = row.quantity
        tile.values.append(Value(q.key, q.name, q.unit, row.value, row.ts, tile.indoor))


def visible_or_404(queryset, pk: int):
    """The object ``pk`` of a user's queryset, or the 404 page (as the API answers)."""
    obj = queryset.filter(pk=pk).first() if pk <= MAX_ID else None
    if obj is None:
        raise Http404("No such object visible to you.")
    return obj


@login_required
def map_page(request):
    """The sites the user sees on a map, coloured by their nodes' health, alerts and CO2.

    The map's data are read as plain rows (no model instances, no reverse() per node):
    10,000 nodes render in well under a second (bench/map.py). The tiles below the map
    are the first MAP_LIST_SITES sites'.
    """
    user = request.user
    sites = list(
        Site.objects.for_user(user).values(
            "pk", "name", "latitude", "longitude", "organization__name"
        )
    )
    nodes_by_site = _map_nodes(user)
    site_data = [
        {
            "id": site["pk"],
            "name": site["name"],
            "organization": site["organization__name"],
            "lat": site["latitude"],
            "lon": site["longitude"],
            "nodes": nodes_by_site.get(site["pk"], []),
        }
        for site in sites
    ]
    listed_ids = [site["pk"] for site in sites[:MAP_LIST_SITES]]
    listed_sites = Site.objects.filter(pk__in=listed_ids).select_related("organization")
    installations = active_installations(user).filter(room__site__in=listed_ids)
    installed = Installation.objects.active().values("node_id")
    loose = Node.objects.for_user(user).exclude(pk__in=installed)
    tiles = tiles_for(user, installations, loose.select_related("organization")[:MAP_LIST_SITES])
    by_site = defaultdict(list)
    for tile in tiles:
        if tile.installation:
            by_site[tile.installation.room.site_id].append(tile)
    context = {
        "sites": [(site, by_site[site.pk]) for site in listed_sites],
        "unlisted": len(sites) - len(listed_ids),
        "loose": [t for t in tiles if t.installation is None],
        "config": {
            "sites": site_data,
            # map.js puts the id in: no reverse() for each of thousands of markers
            "site_url": _url_pattern("dashboard:site"),
            "node_url": _url_pattern("dashboard:node"),
            **map_config(),
        },
    }
    return render(request, "dashboard/map.html", context)


def _url_pattern(name: str) -> str:
    """The URL of ``name`` with ``{id}`` for its object's id (map.js fills it in)."""
    return reverse(name, args=[MAX_ID]).replace(str(MAX_ID), "{id}")


def _map_nodes(user) -> dict[int, list[dict]]:
    """Site → its nodes installed now that ``user`` sees, as map.js reads them: label,
    health, open alerts, newest values (members: all; others: since the public
    installation began), whether the user is a member (a link to the node's page)."""
    member_of = organization_ids(user)
    placed = active_installations(user)
    rows = placed.order_by("node__alias", "node__device_id", "pk").values(
        "node_id",
        "start",
        "room__site_id",
        "room__name",
        "room__outdoor",
        "node__alias",
        "node__device_id",
        "node__status",
        "node__organization_id",
    )
    nodes: dict[int, dict] = {}
    by_site: dict[int, list[dict]] = defaultdict(list)
    since: dict[int, datetime] = {}
    for row in rows:
        member = row["node__organization_id"] in member_of
        node = {
            "id": row["node_id"],
            "label": (
                row["node__alias"] or row["node__device_id"]
                if member
                else public_label(row["node__alias"], row["node_id"])
            ),
            "status": row["node__status"],
            "member": member,
            "device_id": row["node__device_id"] if member else "",
            "room": row["room__name"],
            "indoor": not row["room__outdoor"],
            "alerts": 0,
            "values": {},
            "ts": None,
        }
        if not member:
            since[row["node_id"]] = row["start"]
        nodes[row["node_id"]] = node
        by_site[row["room__site_id"]].append(node)
    latest = Latest.objects.filter(node_id__in=placed.values("node_id")).values_list(
        "node_id", "quantity__key", "value", "ts"
    )
    for node_id, key, value, ts in latest:
        if node_id not in nodes:
            continue
        if node_id in since and ts < since[node_id]:
            continue  # a public installation publishes its own period only
        node = nodes[node_id]
        node["values"][key] = value
        if node["ts"] is None or ts > node["ts"]:
            node["ts"] = ts
    alerts = (
        Alert.objects.for_user(user)
        .open()
        .filter(node_id__in=placed.values("node_id"))
        .values("node_id")
        .annotate(n=Count("id"))
    )
    for row in alerts:
        if row["node_id"] in nodes and row["node_id"] not in since:
            nodes[row["node_id"]]["alerts"] = row["n"]
    for node in nodes.values():
        node["ts"] = node["ts"].isoformat() if node["ts"] else None
    return by_site


# The map page lists its sites below the map as tiles up to this many; beyond, the
# Devices list (filters, pages) is the way to every node without the map.
MAP_LIST_SITES = 100


def map_config() -> dict:
    """What map.js and fleet.js need to draw the basemap (docs/dashboard.md, "Basemap")."""
    return {
        "tiles": settings.SENSORGRID_MAP_TILES,
        "attribution": settings.SENSORGRID_MAP_ATTRIBUTION,
        "attribution_url": settings.SENSORGRID_MAP_ATTRIBUTION_URL,
        "basemap": static("dashboard/vendor/basemap.json"),
    }


@login_required
def site_page(request, pk: int):
    site = visible_or_404(Site.objects.for_user(request.user).select_related("organization"), pk)
    installations = active_installations(request.user).filter(room__site=site)
    tiles = tiles_for(request.user, installations)
    rooms = Room.objects.for_user(request.user).filter(site=site)
    context = {"site": site, "rooms": rooms, "tiles": tiles, "subscription": {"site": site.pk}}
    with timezone.override(time_zone_of(site.organization)):  # one organization's page
        return render(request, "dashboard/site.html", context)


def room_facts(room: Room) -> list[str]:
    """What the room page says about a room under its name: "Outdoors · 900 m²"."""
    facts = ["Outdoors"] if room.outdoor else []
    if room.floor is not None:
        facts.append(room.floor_label.capitalize())
    if room.area:
        facts.append(f"{floatformat(room.area, -1)} m²")
    if room.height:
        facts.append(f"{floatformat(room.height, -1)} m high")
    if room.max_occupancy:
        facts.append(f"up to {room.max_occupancy} people")
    return facts


@login_required
def room_page(request, pk: int):
    room = visible_or_404(
        Room.objects.for_user(request.user).select_related("site__organization"), pk
    )
    installations = active_installations(request.user).filter(room=room)
    tiles = tiles_for(request.user, installations)
    context = {
        "room": room,
        "facts": room_facts(room),
        "tiles": tiles,
        "subscription": {"room": room.pk},
    }
    with timezone.override(time_zone_of(room.site.organization)):
        return render(request, "dashboard/room.html", context)


def public_page(request):
    """What the public installations publish, for everybody (no login)."""
    stranger = AnonymousUser()  # the page shows what everybody sees, also to members
    tiles = tiles_for(stranger, active_installations(stranger))
    groups = defaultdict(list)
    for tile in tiles:
        site = tile.installation.room.site
        groups[(site.organization.name, site.name, site.address)].append(tile)
    context = {
        "groups": sorted(groups.items(), key=lambda kv: kv[0]),
        "day_ago": (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return render(request, "dashboard/public.html", context)
