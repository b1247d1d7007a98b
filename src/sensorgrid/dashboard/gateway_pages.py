"""A LoRaWAN gateway's page: how many uplinks of the organization's nodes it heard,
which devices, when last, and whether it is online (heard within
SENSORGRID_GATEWAY_ONLINE_SECONDS). Members of the gateway's organization only: the
same gateway id heard by another organization is another row, and its page is a 404
for everybody else (docs/lorawan.md, "Radio view")."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.shortcuts import render
from django.utils import timezone

from sensorgrid.dashboard.views import visible_or_404
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.gateways import online
from sensorgrid.telemetry.models import Gateway, Reception
from sensorgrid.tenancy.time_zones import time_zone_of

#: Devices listed on the page, those heard most recently first.
DEVICE_ROWS = 200


@dataclass(frozen=True, slots=True)
class DeviceHeard:
    node: Node
    uplinks: int
    last_seen: datetime
    best_rssi: float | None
    rssi: float | None  # of the newest reception
    snr: float | None


def devices_heard(gateway: Gateway) -> tuple[list[DeviceHeard], int, int]:
    """The organization's nodes this gateway heard (at most DEVICE_ROWS), how many in
    all, and how many uplinks. Two GROUP BY statements and one for the newest rows."""
    receptions = Reception.objects.filter(
        gateway_id=gateway.gateway_id, node__organization=gateway.organization_id
    ).order_by()
    totals = receptions.aggregate(uplinks=Count("pk"), devices=Count("node", distinct=True))
    rows = list(
        receptions.values("node_id")
        .annotate(uplinks=Count("pk"), last_seen=Max("ts"), best=Max("rssi"))
        .order_by("-last_seen", "node_id")[:DEVICE_ROWS]
    )
    newest_of = Q(pk__in=[])
    for row in rows:
        newest_of |= Q(node_id=row["node_id"], ts=row["last_seen"])
    newest = {r.node_id: r for r in receptions.filter(newest_of)}
    nodes = Node.objects.in_bulk([row["node_id"] for row in rows])
    devices = [
        DeviceHeard(
            nodes[row["node_id"]],
            row["uplinks"],
            row["last_seen"],
            row["best"],
            newest[row["node_id"]].rssi,
            newest[row["node_id"]].snr,
        )
        for row in rows
    ]
    return devices, totals["devices"], totals["uplinks"]


@login_required
def gateway_page(request, pk: int):
    gateway = visible_or_404(
        Gateway.objects.for_user(request.user).select_related("organization"), pk
    )
    devices, device_count, uplinks = devices_heard(gateway)
    context = {
        "gateway": gateway,
        "online": online(gateway),
        "window_minutes": settings.SENSORGRID_GATEWAY_ONLINE_SECONDS // 60,
        "devices": devices,
        "device_count": device_count,
        "uplinks": uplinks,
    }
    with timezone.override(time_zone_of(gateway.organization)):
        return render(request, "dashboard/gateway.html", context)
