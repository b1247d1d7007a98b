from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sensorgrid.inventory.api import filters
from sensorgrid.inventory.api.serializers import (
    InstallationSerializer,
    NodeModelSerializer,
    NodeSerializer,
    NodeWithCredentialSerializer,
    QuantitySerializer,
    RoomSerializer,
    SiteSerializer,
)
from sensorgrid.inventory.models import Installation, Node, NodeModel, Quantity, Room, Site
from sensorgrid.tenancy.permissions import ReadOnlyUnlessSuperuser
from sensorgrid.tenancy.viewsets import TenantModelViewSet


@extend_schema_view(
    list=extend_schema(summary="List quantities", description="The global registry."),
)
class QuantityViewSet(viewsets.ModelViewSet):
    queryset = Quantity.objects.all()
    serializer_class = QuantitySerializer
    permission_classes = [ReadOnlyUnlessSuperuser]
    filterset_fields = ["key", "unit"]
    search_fields = ["key", "name"]
    ordering_fields = ["key", "name", "id"]


@extend_schema_view(list=extend_schema(summary="List sites"))
class SiteViewSet(TenantModelViewSet):
    model = Site
    serializer_class = SiteSerializer
    filterset_class = filters.SiteFilter
    search_fields = ["name", "address"]
    ordering_fields = ["name", "created_at", "id"]


@extend_schema_view(list=extend_schema(summary="List rooms"))
class RoomViewSet(TenantModelViewSet):
    model = Room
    serializer_class = RoomSerializer
    filterset_class = filters.RoomFilter
    search_fields = ["name", "site__name"]
    ordering_fields = ["name", "area", "max_occupancy", "id"]


@extend_schema_view(
    list=extend_schema(
        summary="List node models",
        description="The shared catalogue and your organizations' own models.",
    )
)
class NodeModelViewSet(TenantModelViewSet):
    model = NodeModel
    serializer_class = NodeModelSerializer
    filterset_class = filters.NodeModelFilter
    search_fields = ["manufacturer", "name"]
    ordering_fields = ["manufacturer", "name", "id"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("quantities")


@extend_schema_view(
    list=extend_schema(summary="List nodes", description="Nodes of your organizations."),
    create=extend_schema(
        summary="Register a node",
        description="The response carries the node's ingest `credential`, shown only once.",
        responses=NodeWithCredentialSerializer,
    ),
)
class NodeViewSet(TenantModelViewSet):
    model = Node
    serializer_class = NodeSerializer
    filterset_class = filters.NodeFilter
    search_fields = ["device_id", "alias"]
    ordering_fields = ["device_id", "alias", "last_seen", "status", "created_at", "id"]

    def get_serializer_class(self):
        if self.action in ("create", "rotate_credential"):
            return NodeWithCredentialSerializer
        return NodeSerializer

    def after_create(self, instance) -> None:
        instance.credential = instance.issue_credential()
        instance.save(update_fields=["credential_digest"])

    @extend_schema(
        summary="Issue a new ingest credential",
        description="The old credential stops working at once. The new one is shown only here.",
        request=None,
        responses=NodeWithCredentialSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-credential")
    def rotate_credential(self, request, pk=None):
        node = self.get_object()
        with transaction.atomic():
            node.credential = node.issue_credential()
            node.save(update_fields=["credential_digest"])
        return Response(self.get_serializer(node).data)


@extend_schema_view(
    list=extend_schema(
        summary="List installations",
        description="Installations of your nodes, and public installations of others.",
    )
)
class InstallationViewSet(TenantModelViewSet):
    model = Installation
    serializer_class = InstallationSerializer
    filterset_class = filters.InstallationFilter
    ordering_fields = ["start", "end", "id"]
