"""Time-series and latest-value endpoints of nodes and installations (docs/timeseries.md)."""

import csv
from collections.abc import Iterator
from typing import Any

from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from sensorgrid.api.schema import ErrorSerializer
from sensorgrid.inventory.models import Installation, Node, Quantity
from sensorgrid.isotime import iso
from sensorgrid.storable import MAX_ID
from sensorgrid.telemetry import timeseries
from sensorgrid.telemetry.api import serializers as s
from sensorgrid.telemetry.models import Latest
from sensorgrid.tenancy.scoping import Action


class CSVRenderer(BaseRenderer):
    """Makes text/csv negotiable (``?format=csv``, ``Accept: text/csv``).

    The views stream CSV themselves; errors are switched back to JSON, so this only
    renders what slips through, as text.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return str(data).encode()


class PointLimitExceeded(APIException):
    """The 400 answer to ``timeseries.TooManyPoints`` (its message says how to narrow)."""

    status_code = 400
    default_code = "too_many_points"


class _Echo:
    """csv.writer target that hands each line back instead of buffering it."""

    def write(self, line: str) -> str:
        return line


class _ReadView(APIView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            formats = ", ".join(r.format for r in self.get_renderers() if r.format != "api")
            raise ValidationError({"format": [f"Unknown format; use {formats}."]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is a JSON body, also when CSV was asked for.
        renderer = getattr(request, "accepted_renderer", None)
        failed = isinstance(response, Response) and response.status_code >= 400
        if failed and (renderer is None or isinstance(renderer, CSVRenderer)):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def visible_node(self, pk: int) -> Node:
        return visible_node(self.request.user, pk)


def visible_node(user, pk: int) -> Node:
    """The node ``pk`` if ``user`` may see its data (members only), else 404."""
    if pk > MAX_ID:
        raise NotFound()
    node = Node.objects.for_user(user, Action.VIEW).filter(pk=pk).first()
    if node is None:
        raise NotFound()
    return node


QUERY_PARAMETERS = [
    OpenApiParameter(
        "quantity",
        str,
        description="Quantity keys, comma-separated (co2,temperature). "
        "Default: every quantity the node has reported.",
    ),
    OpenApiParameter(
        "from",
        str,
        description="Start, inclusive: ISO 8601 (no offset = UTC) or epoch seconds. "
        "Default: to − 24 h.",
    ),
    OpenApiParameter(
        "to", str, description="End, exclusive: ISO 8601 or epoch seconds. Default: now."
    ),
    OpenApiParameter("bucket", str, enum=list(timeseries.BUCKETS), default="raw"),
    OpenApiParameter(
        "agg",
        str,
        enum=[a.value for a in timeseries.Agg],
        default="avg",
        description="Aggregate per bucket (ignored for raw).",
    ),
    OpenApiParameter(
        "format", str, enum=["json", "csv"], description="csv streams ts,quantity,value rows."
    ),
]


def _responses(serializer) -> dict:
    # Declared per media type: errors are JSON even when CSV was asked for.
    json = "application/json"
    return {
        (200, json): serializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="ts,quantity,value"),
        (400, json): OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="Invalid parameters (the keys name them), or too many points "
            "(detail says how to narrow the query).",
        ),
        (401, json): OpenApiResponse(ErrorSerializer, description="Unknown token."),
        (404, json): OpenApiResponse(
            ErrorSerializer, description="No such node or installation visible to you."
        ),
    }


class _TimeseriesView(_ReadView):
    def answer(self, node: Node, params: s.Params, extra: dict[str, Any], clip=None):
        quantities = list(params.quantities) or _reported(node)
        start, end = clip if clip else (params.start, params.end)
        try:
            points = timeseries.query(
                node.pk,
                [q.pk for q in quantities],
                start,
                end,
                params.bucket,
                params.agg or timeseries.Agg.AVG,
            )
        except timeseries.TooManyPoints as exc:
            raise PointLimitExceeded(str(exc)) from None
        if self.request.accepted_renderer.format == "csv":
            return _csv(quantities, points)
        body = {
            "node": node.pk,
            **extra,
            "bucket": params.bucket,
            "agg": params.agg.value if params.agg else None,
            "from": iso(params.start),
            "to": iso(params.end),
            "series": [
                {
                    "quantity": q.key,
                    "unit": q.unit,
                    "points": [{"ts": iso(p.ts), "value": p.value} for p in points[q.pk]],
                }
                for q in quantities
            ],
        }
        return Response(body)


def _reported(node: Node) -> list[Quantity]:
    ids = Latest.objects.filter(node_id=node.pk).values("quantity_id")
    return list(Quantity.objects.filter(pk__in=ids).order_by("key"))


def _csv(quantities, points) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(["ts", "quantity", "value"])
        for q in quantities:
            for p in points[q.pk]:
                yield writer.writerow([iso(p.ts), q.key, repr(p.value)])

    return StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")


class NodeTimeseriesView(_TimeseriesView):
    @extend_schema(
        summary="Time series of a node",
        description="Raw samples or bucket aggregates of a node's quantities in [from, to). "
        "Members of the node's organization only. See docs/timeseries.md.",
        parameters=QUERY_PARAMETERS,
        responses=_responses(s.TimeseriesSerializer),
    )
    def get(self, request, pk: int):
        node = self.visible_node(pk)
        return self.answer(node, s.parse_params(request.query_params), {})


class InstallationTimeseriesView(_TimeseriesView):
    @extend_schema(
        summary="Time series of an installation",
        description="Like the node's time series, restricted to the installation's period "
        "[start, end or now). Public installations are readable by everybody.",
        parameters=QUERY_PARAMETERS,
        responses=_responses(s.InstallationTimeseriesSerializer),
    )
    def get(self, request, pk: int):
        if pk > MAX_ID:
            raise NotFound()
        installations = Installation.objects.for_user(request.user, Action.VIEW)
        installation = installations.select_related("node").filter(pk=pk).first()
        if installation is None:
            raise NotFound()
        params = s.parse_params(request.query_params)
        # The node's data outside the period belongs to other rooms (or nobody's view).
        start = max(params.start, installation.start)
        end = min(params.end, installation.end or timezone.now())
        return self.answer(
            installation.node, params, {"installation": installation.pk}, (start, end)
        )


class NodeLatestView(_ReadView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        summary="Latest values of a node",
        description="The newest value of each quantity the node has reported.",
        responses=s.NodeLatestSerializer,
    )
    def get(self, request, pk: int):
        node = self.visible_node(pk)
        latest = Latest.objects.filter(node_id=node.pk).select_related("quantity")
        values = [
            {
                "quantity": row.quantity.key,
                "unit": row.quantity.unit,
                "ts": iso(row.ts),
                "value": row.value,
            }
            for row in sorted(latest, key=lambda row: row.quantity.key)
        ]
        return Response({"node": node.pk, "values": values})
