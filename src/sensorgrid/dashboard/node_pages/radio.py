"""The "Radio" tab: which LoRaWAN gateways heard the node and how well.

Per gateway the newest RSSI, SNR and spreading factor, how many uplinks it heard and
when last; below, the last receptions as a table and the best RSSI and SNR of each
uplink (over the gateways that heard it) as a chart. The same rows as
``GET /api/v1/nodes/{id}/receptions/`` (docs/lorawan.md).
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.urls import reverse

from sensorgrid.dashboard.node_pages.tabs import node_context, node_or_404, render_tab
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import Reception
from sensorgrid.tenancy.time_zones import time_zone_of

#: Receptions in the table below the gateways.
TABLE_ROWS = 50
#: Receptions the chart reads (its uplinks are fewer when several gateways heard each).
CHART_RECEPTIONS = 500


@dataclass(frozen=True, slots=True)
class GatewayHeard:
    gateway_id: str
    uplinks: int
    last_seen: datetime
    rssi: float | None  # of its newest reception
    snr: float | None
    spreading_factor: int | None


def gateways(node: Node) -> list[GatewayHeard]:
    """Every gateway that heard ``node``, most recently heard first.

    Two queries: counts and last times per gateway, then those newest receptions
    themselves. Correlated subqueries for the newest values joined the GROUP BY, so
    PostgreSQL ran them once per reception: the tab took 2.5 s for a node with 20,000
    receptions, 0.25 s this way (test client, same loaded machine).
    """
    heard = list(
        Reception.objects.filter(node=node)
        .values("gateway_id")
        .annotate(uplinks=Count("pk"), last_seen=Max("ts"))
        .order_by("-last_seen", "gateway_id")
    )
    if not heard:
        return []
    newest_of = Q()
    for row in heard:
        newest_of |= Q(gateway_id=row["gateway_id"], ts=row["last_seen"])
    newest = {r.gateway_id: r for r in Reception.objects.filter(node=node).filter(newest_of)}
    return [
        GatewayHeard(
            row["gateway_id"],
            row["uplinks"],
            row["last_seen"],
            newest[row["gateway_id"]].rssi,
            newest[row["gateway_id"]].snr,
            newest[row["gateway_id"]].spreading_factor,
        )
        for row in heard
    ]


def best_per_uplink(receptions: list[Reception]) -> list[list]:
    """``[[epoch seconds, best RSSI, best SNR], ...]`` oldest first: one point per
    uplink (a timestamp), the strongest of the gateways that heard it (None: unknown)."""
    by_ts: dict[datetime, list[Reception]] = {}
    for reception in receptions:
        by_ts.setdefault(reception.ts, []).append(reception)
    points = []
    for ts in sorted(by_ts):
        heard = by_ts[ts]
        rssi = [r.rssi for r in heard if r.rssi is not None]
        snr = [r.snr for r in heard if r.snr is not None]
        points.append([ts.timestamp(), max(rssi, default=None), max(snr, default=None)])
    return points


@login_required
def radio_page(request, pk: int):
    node = node_or_404(request, pk)
    receptions = Reception.objects.filter(node=node).order_by("-ts", "gateway_id")
    recent = list(receptions[:CHART_RECEPTIONS])
    context = node_context(
        request,
        node,
        "radio",
        gateways=gateways(node) if recent else [],
        receptions=recent[:TABLE_ROWS],
        api=reverse("node-receptions", args=[node.pk]),
        chart={"points": best_per_uplink(recent), "time_zone": time_zone_of(node.organization)},
    )
    return render_tab(request, node, "dashboard/node/radio.html", context)
