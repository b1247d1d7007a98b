"""The radio map layers (GeoJSON): LoRaWAN gateways and the coverage they give.

Both are built from the receptions of the viewer's organizations only: radio
diagnostics are not published by public installations (like
``/api/v1/nodes/{id}/receptions/``), so anonymous users get empty collections.
See docs/lorawan.md, "Radio view".
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from sensorgrid.geo.api import params
from sensorgrid.geo.api.views import RESPONSES, _GeoView
from sensorgrid.telemetry import coverage
from sensorgrid.telemetry.api.receptions import INSTANT, _query_errors
from sensorgrid.telemetry.gateways import online
from sensorgrid.telemetry.models import Gateway, Reception
from sensorgrid.tenancy.scoping import Action

#: The coverage map's default period, back from ``to`` (or now).
COVERAGE_DAYS = 30
DEFAULT_CELL = 0.01


class GatewaysView(_GeoView):
    @extend_schema(
        summary="Gateways that heard your nodes (GeoJSON)",
        description="The LoRaWAN gateways of your organizations' receptions that have a "
        "position (the last one the network server reported), with last reception and "
        "health: online if heard within SENSORGRID_GATEWAY_ONLINE_SECONDS. `total` counts "
        "those without a position too. Members only; empty for anybody else.",
        responses=RESPONSES,
    )
    def get(self, request):
        gateways = Gateway.objects.for_user(request.user, Action.VIEW).select_related(
            "organization"
        )
        now = timezone.now()
        total = gateways.count()
        placed = gateways.filter(latitude__isnull=False, longitude__isnull=False)
        features = [
            {
                "type": "Feature",
                "id": gateway.pk,
                "geometry": {"type": "Point", "coordinates": [gateway.longitude, gateway.latitude]},
                "properties": {
                    "gateway_id": gateway.gateway_id,
                    "name": gateway.name,
                    "organization": gateway.organization.name,
                    "last_seen": gateway.last_seen.isoformat().replace("+00:00", "Z"),
                    "online": online(gateway, now),
                    "url": reverse("dashboard:gateway", args=[gateway.pk]),
                },
            }
            for gateway in placed.order_by("gateway_id", "pk")
        ]
        return Response({"type": "FeatureCollection", "total": total, "features": features})


class CoverageView(_GeoView):
    @extend_schema(
        summary="Radio coverage: best RSSI per cell (GeoJSON)",
        description="Square cells of `cell` degrees where your nodes' uplinks were heard, "
        "with the best RSSI (dBm) of any gateway and the number of receptions. An uplink "
        "counts where its device said it was, else at the site of the node's installation "
        f"at that time. Default period: the last {COVERAGE_DAYS} days. Members only.",
        parameters=[
            OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat"),
            OpenApiParameter(
                "cell",
                float,
                description=f"Cell size in degrees, {coverage.MIN_CELL}–{coverage.MAX_CELL} "
                f"(default {DEFAULT_CELL}).",
            ),
            OpenApiParameter("from", str, description=f"Start, inclusive: {INSTANT}."),
            OpenApiParameter("to", str, description=f"End, exclusive: {INSTANT}."),
        ],
        responses=RESPONSES,
    )
    def get(self, request):
        query = request.query_params
        window = _query_errors(query, ("from", "to"))
        end = window["to"] or timezone.now()
        start = window["from"] or end - timedelta(days=COVERAGE_DAYS)
        size = _cell(query.get("cell"))
        box = params.bbox(query)
        area = None if box is None else coverage.Area(box.min_x, box.min_y, box.max_x, box.max_y)
        receptions = Reception.objects.for_user(request.user, Action.VIEW)
        found = coverage.cells(receptions, size, start, end, area)
        return Response(
            {
                "type": "FeatureCollection",
                "cell": size,
                "from": start.isoformat().replace("+00:00", "Z"),
                "to": end.isoformat().replace("+00:00", "Z"),
                "features": [coverage.feature(cell, size) for cell in found],
            }
        )


def _cell(raw: str | None) -> float:
    if raw is None:
        return DEFAULT_CELL
    try:
        size = float(raw)
    except ValueError:
        size = float("nan")
    if not coverage.MIN_CELL <= size <= coverage.MAX_CELL:  # also NaN
        raise params.bad(
            "cell", f"Use a size in degrees from {coverage.MIN_CELL} to {coverage.MAX_CELL}."
        )
    return size
