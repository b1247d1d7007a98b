"""Rules, their per-series state, alerts, channels, forwarders and the delivery outbox.

See docs/alerts.md for the semantics of each rule kind and of the outbox.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from sensorgrid.inventory.models import Node, NodeModel, Quantity, Room, Site
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import TenantQuerySet


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (JSON, HMAC-SHA256 signed)"
    EMAIL = "email", "E-mail"
    MQTT = "mqtt", "MQTT publish"


class Channel(models.Model):
    """Where notifications and forwarded data go. ``config`` depends on ``kind``:

    - webhook: ``{"url": "https://…"}``; ``secret`` signs every body.
    - email: ``{"to": ["ops@example.org", …]}``.
    - mqtt: ``{"url": "mqtt://user:pass@host:1883", "topic": "alerts/org-a"}``.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_channels"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    config = models.JSONField(default=dict, blank=True)
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class RuleKind(models.TextChoices):
    THRESHOLD = "threshold", "Threshold with hysteresis and minimum duration"
    NO_DATA = "no_data", "No data for a duration"
    RATE_OF_CHANGE = "rate_of_change", "Rate of change"
    NODE_HEALTH = "node_health", "Node health (MISSING / DEAD)"
    ANOMALY = "anomaly", "Anomaly (robust z-score over a sliding window)"
    # Registered by the outliers app (sensorgrid.outliers.alerting), stepped by its scores.
    IMAGE_OUTLIER = "image_outlier", "Image outlier (the node's outlier model flags a picture)"


class Scope(models.TextChoices):
    NODE = "node", "One node"
    ROOM = "room", "Nodes installed in a room"
    SITE = "site", "Nodes installed at a site"
    NODE_MODEL = "node_model", "Nodes of a model"
    ORGANIZATION = "organization", "Every node of the organization"


class Severity(models.TextChoices):
    INFO = "info", "info"
    WARNING = "warning", "warning"
    CRITICAL = "critical", "critical"


class AlertRule(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(max_length=200)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.ORGANIZATION)
    node = models.ForeignKey(
        Node, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    node_model = models.ForeignKey(
        NodeModel, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    quantity = models.ForeignKey(
        Quantity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Required by every kind but node_health.",
    )
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    params = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    channels = models.ManyToManyField(Channel, blank=True, related_name="rules")
    notify_resolved = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Rule kinds rely on normalised parameters (defaults filled in), whoever saves.
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from sensorgrid.alerts import rules
        from sensorgrid.alerts.rules.base import ParamError

        if self.kind not in rules.available():
            raise ValidationError({"kind": f"Unknown kind {self.kind!r}."})
        try:
            self.params = rules.get(self.kind).validate(self.params or {})
        except ParamError as exc:
            raise ValidationError({"params": str(exc)}) from None


class AlertQuerySet(TenantQuerySet):
    def open(self) -> "AlertQuerySet":
        return self.filter(resolved_at__isnull=True)


class Alert(models.Model):
    """One episode of a rule firing for one series (node, quantity) or node."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="alerts")
    quantity = models.ForeignKey(
        Quantity, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.CharField(max_length=500)
    started_at = models.DateTimeField(help_text="When the condition began (before min. duration).")
    opened_at = models.DateTimeField(help_text="When the condition was confirmed.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_ts = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-opened_at"])]
        constraints = [
            # One open alert per rule and series, whatever races the evaluators run.
            models.UniqueConstraint(
                fields=["rule", "node", "quantity"],
                condition=Q(resolved_at__isnull=True, quantity__isnull=False),
                name="alerts_one_open_per_series",
            ),
            models.UniqueConstraint(
                fields=["rule", "node"],
                condition=Q(resolved_at__isnull=True, quantity__isnull=True),
                name="alerts_one_open_per_node",
            ),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertState(models.Model):
    """What a rule remembers of one series between samples (never recomputed from history)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    quantity = models.ForeignKey(
        Quantity, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    last_ts = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    memory = models.JSONField(default=dict, blank=True)  # kind-specific (anomaly window…)
    alert = models.ForeignKey(
        Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "node", "quantity"],
                condition=Q(quantity__isnull=False),
                name="alerts_state_per_series",
            ),
            models.UniqueConstraint(
                fields=["rule", "node"],
                condition=Q(quantity__isnull=True),
                name="alerts_state_per_node",
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} node {self.node_id} q{self.quantity_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending (waiting for its next attempt)"
    SENDING = "sending", "sending (claimed by a worker)"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed (given up)"


class DeliveryQuerySet(TenantQuerySet):
    pass


class Delivery(models.Model):
    """One outbound message, written in the transaction that causes it (the outbox)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    alert = models.ForeignKey(
        Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    forwarder = models.ForeignKey(
        "Forwarder", on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    event = models.CharField(max_length=50)  # alert.opened, alert.resolved, samples, test
    payload = models.JSONField()
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="alerts_delivery_due",
            ),
            models.Index(
                fields=["claimed_until"],
                condition=Q(status="sending"),
                name="alerts_delivery_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel_id} ({self.status})"


class Forwarder(models.Model):
    """Forwards samples of public installations to a channel, batched and resumable.

    The cursor (``cursor_ts``, ``cursor_node``, ``cursor_quantity``) is the last sample
    written into a delivery; the delivery row itself is the durable copy, so an outage
    of the receiver or the worker loses nothing and sends nothing twice on purpose.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="forwarders")
    quantities = models.ManyToManyField(Quantity, blank=True, related_name="+")
    batch_size = models.PositiveIntegerField(
        default=500, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )
    interval = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(60), MaxValueValidator(86400)],
        help_text="Seconds between two batches (the worker checks every minute).",
    )
    enabled = models.BooleanField(default=True)
    cursor_ts = models.DateTimeField(null=True, blank=True, editable=False)
    cursor_node = models.BigIntegerField(default=0, editable=False)
    cursor_quantity = models.BigIntegerField(default=0, editable=False)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "name", "pk"]

    def __str__(self) -> str:
        return self.name
