"""Node health in the API: a node's state history, and counts per organization.

The state itself is the ``status`` field of the node resource (filter ``?status=``).
Both views follow the time series: members of the node's organization only, 404
for everybody else.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from sensorgrid.fidelity import summary
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.inventory.models import Node, NodeStatus
from sensorgrid.telemetry.api.views import visible_node
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, organization_ids


class NodeStatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = NodeStatusChange
        fields = ["from_status", "to_status", "at", "recorded_at"]
        read_only_fields = fields


class NodeStatusHistoryView(generics.ListAPIView):
    serializer_class = NodeStatusChangeSerializer
    queryset = NodeStatusChange.objects.none()  # the real one needs the node of the URL
    filter_backends = []

    @extend_schema(
        summary="Health history of a node",
        description="Every change of the node's health state (ALIVE, MISSING, DEAD, "
        "UNKNOWN), newest first. `at` is when the new state began, `recorded_at` when "
        "the worker noticed. Members of the node's organization only. "
        "See docs/operations.md.",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The node's id.")
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        node = visible_node(self.request.user, self.kwargs["pk"])
        return NodeStatusChange.objects.filter(node=node).order_by("-at", "-id")


_COUNTS = inline_serializer(
    "NodeStatusCounts",
    {
        "organization": serializers.IntegerField(),
        "slug": serializers.CharField(),
        "total": serializers.IntegerField(),
        "counts": inline_serializer(
            "NodeStatusCountsByState",
            {status.value: serializers.IntegerField() for status in NodeStatus},
        ),
    },
    many=True,
)


class NodeStatusCountsView(APIView):
    @extend_schema(
        summary="Node health counts per organization",
        description="For each organization you are a member of: how many nodes are "
        "ALIVE, MISSING, DEAD and UNKNOWN (every state listed, zeros included).",
        responses=_COUNTS,
    )
    def get(self, request):
        member_of = organization_ids(request.user, Action.VIEW)
        organizations = Organization.objects.filter(member_of.q("pk")).order_by("slug")
        by_org = summary.counts_by_organization(Node.objects.filter(organization__in=organizations))
        empty = {status.value: 0 for status in NodeStatus}
        return Response(
            [
                {
                    "organization": organization.pk,
                    "slug": organization.slug,
                    "total": sum(by_org.get(organization.pk, empty).values()),
                    "counts": by_org.get(organization.pk, empty),
                }
                for organization in organizations
            ]
        )
