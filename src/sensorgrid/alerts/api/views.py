"""Alert rules, channels and forwarders (CRUD); alerts and deliveries (read, act).

Owners of an organization change, inspectors read, everybody else gets 404.
"""

from django.db import models, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from sensorgrid.alerts import deliveries, evaluate
from sensorgrid.alerts.api import filters
from sensorgrid.alerts.api.serializers import (
    AlertRuleSerializer,
    AlertSerializer,
    ChannelSerializer,
    ChannelWithSecretSerializer,
    DeliverySerializer,
    ForwarderSerializer,
)
from sensorgrid.alerts.models import (
    Alert,
    AlertRule,
    Channel,
    Delivery,
    DeliveryStatus,
    Forwarder,
    new_secret,
)
from sensorgrid.tenancy.viewsets import OWNER_ONLY, TenantModelViewSet, TenantRows

#: Changing these makes a rule's remembered state meaningless: it starts afresh.
RULE_IDENTITY = ("kind", "params", "quantity_id", "scope", "node_id", "room_id", "site_id",
                 "node_model_id", "enabled")  # fmt: skip


class _TenantReadViewSet(
    TenantRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Read-only, restricted by ``for_user``; actions that change need ``require_change``."""

    def require_change(self, obj: models.Model) -> None:
        if not self.can_change(obj):
            raise PermissionDenied(OWNER_ONLY)


@extend_schema_view(
    list=extend_schema(summary="List notification channels"),
    create=extend_schema(
        summary="Create a channel",
        description="A webhook's signing `secret` is in this response only.",
        responses=ChannelWithSecretSerializer,
    ),
)
class ChannelViewSet(TenantModelViewSet):
    model = Channel
    serializer_class = ChannelSerializer
    filterset_class = filters.ChannelFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_serializer_class(self):
        if self.action in ("create", "rotate_secret"):
            return ChannelWithSecretSerializer
        return ChannelSerializer

    @extend_schema(
        summary="Issue a new signing secret",
        description="The old secret stops signing at once; the new one is shown only here.",
        request=None,
        responses=ChannelWithSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        channel = self.get_object()
        channel.secret = new_secret()
        channel.save(update_fields=["secret"])
        return Response(self.get_serializer(channel).data)

    @extend_schema(
        summary="Send a test message",
        description="Writes a `test` delivery to the outbox; follow it under /deliveries/.",
        request=None,
        responses=DeliverySerializer,
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        channel = self.get_object()
        with transaction.atomic():
            delivery = deliveries.enqueue(
                channel,
                "test",
                {"event": "test", "channel": channel.pk, "sent_at": timezone.now().isoformat()},
            )
        return Response(DeliverySerializer(delivery).data, status=201)


@extend_schema_view(list=extend_schema(summary="List alert rules"))
class AlertRuleViewSet(TenantModelViewSet):
    model = AlertRule
    serializer_class = AlertRuleSerializer
    filterset_class = filters.AlertRuleFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "severity", "id"]

    def get_queryset(self):
        return super().get_queryset().select_related("quantity").prefetch_related("channels")

    def perform_update(self, serializer):
        before = {name: getattr(serializer.instance, name) for name in RULE_IDENTITY}
        with transaction.atomic():
            super().perform_update(serializer)
            rule = serializer.instance
            if any(getattr(rule, name) != value for name, value in before.items()):
                evaluate.reset_rule(rule, timezone.now())


@extend_schema_view(
    list=extend_schema(
        summary="List alerts",
        description="Newest first. Filter `open=true` for current alerts, "
        "`acknowledged=false` for those nobody has taken on yet.",
    )
)
class AlertViewSet(_TenantReadViewSet):
    model = Alert
    serializer_class = AlertSerializer
    filterset_class = filters.AlertFilter
    search_fields = ["message", "node__device_id", "rule__name"]
    ordering_fields = ["opened_at", "resolved_at", "severity", "id"]

    def get_queryset(self):
        return super().get_queryset().select_related("rule", "node", "quantity", "acknowledged_by")

    @extend_schema(
        summary="Acknowledge an alert",
        description="Records who took the alert on, and when (once: later calls keep "
        "the first). Owners of the organization only.",
        request=None,
        responses=AlertSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        self.require_change(alert)
        evaluate.acknowledge(alert, request.user)
        alert.refresh_from_db()
        return Response(self.get_serializer(alert).data)


@extend_schema_view(
    list=extend_schema(
        summary="List deliveries",
        description="The outbox: every notification and forwarded batch with its status.",
    )
)
class DeliveryViewSet(_TenantReadViewSet):
    model = Delivery
    serializer_class = DeliverySerializer
    filterset_class = filters.DeliveryFilter
    ordering_fields = ["created_at", "next_attempt_at", "id"]

    @extend_schema(
        summary="Retry a failed delivery",
        description="Puts a failed delivery back in the queue, due now, same idempotency key.",
        request=None,
        responses=DeliverySerializer,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = self.get_object()
        self.require_change(delivery)
        if delivery.status != DeliveryStatus.FAILED:
            return Response(
                {"detail": f"Only failed deliveries are retried; this one is {delivery.status}."},
                status=409,
            )
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
                status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), attempts=0
            )
            transaction.on_commit(lambda: deliveries.kick(delivery.pk))
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data)


@extend_schema_view(list=extend_schema(summary="List forwarders"))
class ForwarderViewSet(TenantModelViewSet):
    model = Forwarder
    serializer_class = ForwarderSerializer
    filterset_class = filters.ForwarderFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "id"]
