"""The geo API: map layers and node locations as GeoJSON (docs/pipelines.md).

Tenancy as everywhere: a layer is visible to its organization's members, and to
everybody when it is public; a node's location to its organization's members, and to
everybody while a public installation places it. Anything else is a 404.
"""

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from sensorgrid.api.schema import VALIDATION_ERROR, ErrorSerializer
from sensorgrid.geo.api import params
from sensorgrid.geo.api.renderers import GeoJSONRenderer
from sensorgrid.geo.models import Feature, Layer
from sensorgrid.inventory.models import Installation
from sensorgrid.isotime import iso
from sensorgrid.storable import MAX_ID
from sensorgrid.telemetry.models import Latest
from sensorgrid.tenancy.scoping import Action, organization_ids


class _GeoView(APIView):
    renderer_classes = [GeoJSONRenderer, JSONRenderer, BrowsableAPIRenderer]
    filter_backends = []

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise ValidationError({"format": ["Unknown format; use geojson or json."]}) from None

    def collection(self, request, rows: list, matched: int, limit: int, offset: int, **extra):
        body = {"type": "FeatureCollection", **extra, "features": rows}
        body["numberMatched"] = matched
        body["numberReturned"] = len(rows)
        links = []
        if offset + limit < matched:
            links.append({"rel": "next", "href": self._page(request, limit, offset + limit)})
        if offset > 0:
            links.append(
                {"rel": "prev", "href": self._page(request, limit, max(0, offset - limit))}
            )
        body["links"] = links
        return Response(body)

    @staticmethod
    def _page(request, limit: int, offset: int) -> str:
        query = request.query_params.copy()
        query["limit"] = str(limit)
        query["offset"] = str(offset)
        return request.build_absolute_uri(request.path) + "?" + query.urlencode()


_FILTER_DOC = (
    "Property filters: `field=value`, `field__ne=value`, `field__in=a,b`, "
    "`field__gte=x`, `field__lte=x`, `field__missing=true|false`. Numbers compare as "
    "numbers, other values as text (ISO dates sort correctly)."
)
RESPONSES = {
    200: OpenApiTypes.OBJECT,
    400: VALIDATION_ERROR,
    404: OpenApiResponse(ErrorSerializer, description="No such layer visible to you."),
}
_COMMON = [
    OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat (WGS 84)"),
    OpenApiParameter("limit", int, description="Features per page (default 1000)."),
    OpenApiParameter("offset", int, description="Features to skip."),
]


class LayerListView(_GeoView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        operation_id="geo_layers_list",
        summary="Map layers",
        description="The layers you may see: your organizations' and the public ones.",
        responses=RESPONSES,
    )
    def get(self, request):
        layers = Layer.objects.for_user(request.user, Action.VIEW).select_related("organization")
        return Response(
            {
                "nodes": reverse("geo-nodes", request=request),
                "layers": [
                    {
                        "id": layer.pk,
                        "key": layer.key,
                        "name": layer.name,
                        "description": layer.description,
                        "organization": layer.organization.name,
                        "geometry_type": layer.geometry_type,
                        "is_public": layer.is_public,
                        "style": layer.style,
                        "url": reverse("geo-layer", args=[layer.key], request=request),
                    }
                    for layer in layers
                ],
            }
        )


class LayerFeaturesView(_GeoView):
    @extend_schema(
        summary="Features of a map layer (GeoJSON)",
        description="A GeoJSON FeatureCollection of the layer (by key or id). " + _FILTER_DOC,
        parameters=[
            OpenApiParameter("layer", str, OpenApiParameter.PATH, description="Key or id."),
            *_COMMON,
            OpenApiParameter("at", str, description="ISO time or now: features valid then."),
        ],
        responses=RESPONSES,
    )
    def get(self, request, layer: str):
        found = self.layer(request.user, layer)
        query = request.query_params
        features = Feature.objects.filter(layer=found)
        box = params.bbox(query)
        if box is not None:
            features = features.filter(box.q())
        moment = params.at(query)
        if moment is not None:
            features = features.filter(params.at_q(moment))
        features = params.properties(features, query)
        limit, offset = params.page(query)
        matched = features.count()
        rows = features.order_by("pk").values(
            "external_id", "geometry", "properties", "valid_from", "valid_to"
        )[offset : offset + limit]
        return self.collection(
            request,
            [_feature(row) for row in rows],
            matched,
            limit,
            offset,
            layer={
                "id": found.pk,
                "key": found.key,
                "name": found.name,
                "geometry_type": found.geometry_type,
                "style": found.style,
            },
        )

    @staticmethod
    def layer(user, ref: str) -> Layer:
        visible = Layer.objects.for_user(user, Action.VIEW)
        if ref.isdigit():
            found = visible.filter(pk=int(ref)).first() if int(ref) <= MAX_ID else None
        else:
            found = visible.filter(key=ref).first()
        if found is None:
            raise NotFound(f"No layer {ref!r} (or you may not see it).")
        return found


def _feature(row: dict) -> dict:
    feature = {
        "type": "Feature",
        "id": row["external_id"],
        "geometry": row["geometry"],
        "properties": row["properties"],
    }
    if row["valid_from"] or row["valid_to"]:
        feature["valid_from"] = iso(row["valid_from"])
        feature["valid_to"] = iso(row["valid_to"])
    return feature


class NodeLocationsView(_GeoView):
    @extend_schema(
        summary="Node locations with latest values (GeoJSON)",
        description="Points of the nodes placed now (node → open installation → room → "
        "site coordinates) with the newest value of each quantity since the installation "
        "began. Members see their organizations' nodes; everybody sees nodes of public "
        "installations (without the node's identity).",
        parameters=_COMMON,
        responses=RESPONSES,
    )
    def get(self, request):
        user = request.user
        now = timezone.now()
        installations = (
            Installation.objects.for_user(user, Action.VIEW)
            .active(now)
            .filter(room__site__latitude__isnull=False, room__site__longitude__isnull=False)
        )
        box = params.bbox(request.query_params)
        if box is not None:
            lat = Q(room__site__latitude__gte=box.min_y, room__site__latitude__lte=box.max_y)
            lon = (
                Q(room__site__longitude__gte=box.min_x, room__site__longitude__lte=box.max_x)
                if box.min_x <= box.max_x
                else Q(room__site__longitude__gte=box.min_x)
                | Q(room__site__longitude__lte=box.max_x)
            )
            installations = installations.filter(lat & lon)
        limit, offset = params.page(request.query_params)
        matched = installations.count()
        page = list(
            installations.select_related("node", "room__site__organization").order_by(
                "node_id", "pk"
            )[offset : offset + limit]
        )
        member_of = organization_ids(user, Action.VIEW)
        latest: dict[int, list] = {}
        for row in Latest.objects.filter(node_id__in=[i.node_id for i in page]).select_related(
            "quantity"
        ):
            latest.setdefault(row.node_id, []).append(row)
        rows = [
            _node_feature(i, latest.get(i.node_id, []), i.node.organization_id in member_of)
            for i in page
        ]
        return self.collection(request, rows, matched, limit, offset)


def _node_feature(installation: Installation, latest: list, member: bool) -> dict:
    site = installation.room.site
    values = {
        row.quantity.key: {"value": row.value, "unit": row.quantity.unit, "ts": iso(row.ts)}
        for row in sorted(latest, key=lambda r: r.quantity.key)
        # Public series start with the installation; older values belong to other places.
        if row.ts >= installation.start
    }
    properties = {
        "installation": installation.pk,
        "is_public": installation.is_public,
        "room": installation.room.name,
        "site": site.name,
        "organization": site.organization.name,
        "latest": values,
    }
    if member:
        node = installation.node
        properties |= {
            "node": node.pk,
            "device_id": node.device_id,
            "alias": node.alias,
            "status": node.status,
            "last_seen": iso(node.last_seen),
        }
    return {
        "type": "Feature",
        "id": f"node/{installation.node_id}" if member else f"installation/{installation.pk}",
        "geometry": {"type": "Point", "coordinates": [site.longitude, site.latitude]},
        "properties": properties,
    }
