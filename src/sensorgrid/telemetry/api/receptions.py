"""LoRaWAN radio diagnostics: a node's receptions and the gateways that heard them.

``/api/v1/nodes/{id}/receptions/`` follows the node's time series: members of the
node's organization only, 404 for everybody else. ``/api/v1/gateways/`` aggregates
the receptions of the nodes the user is a member for (docs/lorawan.md).
"""

from django.db.models import Avg, Count, Max, Min
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from sensorgrid.telemetry.api.serializers import instant
from sensorgrid.telemetry.api.views import visible_node
from sensorgrid.telemetry.models import Reception
from sensorgrid.tenancy.scoping import Action

INSTANT = "ISO 8601 (no offset = UTC; encode + as %2B) or epoch seconds"


class ReceptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reception
        fields = [
            "ts",
            "gateway_id",
            "rssi",
            "snr",
            "frequency",
            "spreading_factor",
            "frame_counter",
        ]
        read_only_fields = fields


class GatewaySerializer(serializers.Serializer):
    gateway_id = serializers.CharField(help_text="The network server's gateway id.")
    first_seen = serializers.DateTimeField(help_text="Oldest reception (since `since`).")
    last_seen = serializers.DateTimeField(help_text="Newest reception.")
    receptions = serializers.IntegerField(help_text="Uplinks of your nodes it heard.")
    nodes = serializers.IntegerField(help_text="How many of your nodes it heard.")
    mean_rssi = serializers.FloatField(allow_null=True, help_text="dBm; null if never reported.")
    mean_snr = serializers.FloatField(allow_null=True, help_text="dB; null if never reported.")


def _query_errors(query, names: tuple[str, ...]) -> dict:
    errors: dict[str, str] = {}
    values = {name: instant(query, name, errors) for name in names}
    start, end = values.get("from"), values.get("to")
    if start is not None and end is not None and start >= end:
        errors["from"] = "Must be before to (the range is [from, to))."
    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    return values


class NodeReceptionsView(generics.ListAPIView):
    serializer_class = ReceptionSerializer
    queryset = Reception.objects.none()  # the real one needs the node of the URL
    filter_backends = []  # from/to are parsed below ("from" is a Python keyword)

    @extend_schema(
        summary="Receptions of a node",
        description="Which gateways heard the node's LoRaWAN uplinks, with RSSI, SNR, "
        "frequency, spreading factor and frame counter, newest first, in [from, to). "
        "Members of the node's organization only. See docs/lorawan.md.",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The node's id."),
            OpenApiParameter("from", str, description=f"Start, inclusive: {INSTANT}."),
            OpenApiParameter("to", str, description=f"End, exclusive: {INSTANT}."),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        node = visible_node(self.request.user, self.kwargs["pk"])
        window = _query_errors(self.request.query_params, ("from", "to"))
        receptions = Reception.objects.filter(node=node)
        if window["from"] is not None:
            receptions = receptions.filter(ts__gte=window["from"])
        if window["to"] is not None:
            receptions = receptions.filter(ts__lt=window["to"])
        return receptions.order_by("-ts", "gateway_id")


class GatewayListView(generics.ListAPIView):
    serializer_class = GatewaySerializer
    queryset = Reception.objects.none()
    filter_backends = []

    @extend_schema(
        summary="Gateways that heard your nodes",
        description="Every gateway that received an uplink of a node of your "
        "organizations, with first and last reception, how many receptions and nodes, "
        "and mean RSSI and SNR; most recently seen first. `since` restricts all of it "
        "to receptions from then on. See docs/lorawan.md.",
        parameters=[
            OpenApiParameter(
                "since", str, description=f"Only receptions at or after this: {INSTANT}."
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        since = _query_errors(self.request.query_params, ("since",))["since"]
        receptions = Reception.objects.for_user(self.request.user, Action.VIEW)
        if since is not None:
            receptions = receptions.filter(ts__gte=since)
        return (
            receptions.values("gateway_id")
            .annotate(
                first_seen=Min("ts"),
                last_seen=Max("ts"),
                receptions=Count("pk"),
                nodes=Count("node", distinct=True),
                mean_rssi=Avg("rssi"),
                mean_snr=Avg("snr"),
            )
            .order_by("-last_seen", "gateway_id")
        )
