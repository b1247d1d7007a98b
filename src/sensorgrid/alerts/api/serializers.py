from rest_framework import serializers

from sensorgrid.alerts import rules
from sensorgrid.alerts.channels import public_config, validate_config
from sensorgrid.alerts.models import (
    Alert,
    AlertRule,
    Channel,
    ChannelKind,
    Delivery,
    Forwarder,
    Scope,
)
from sensorgrid.alerts.rules.base import ParamError
from sensorgrid.api.hygiene import storable_json
from sensorgrid.inventory.models import Node, NodeModel, Quantity, Room, Site
from sensorgrid.tenancy.fields import ScopedPrimaryKeyRelatedField
from sensorgrid.tenancy.models import Organization, User

SCOPE_FIELDS = {
    Scope.NODE: "node",
    Scope.ROOM: "room",
    Scope.SITE: "site",
    Scope.NODE_MODEL: "node_model",
}


def _get(serializer, attrs, name):
    return attrs.get(name, getattr(serializer.instance, name, None))


def _same_organization(serializer, attrs) -> Organization:
    organization = _get(serializer, attrs, "organization")
    if serializer.instance is not None and organization != serializer.instance.organization:
        raise serializers.ValidationError(
            {"organization": "It cannot move to another organization."}
        )
    return organization


class ChannelSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    config = serializers.JSONField(
        help_text='webhook: {"url": …}; email: {"to": [addresses]}; mqtt: {"url": '
        '"mqtt://[user@]host:1883", "topic": …, "password": …}. The MQTT password is '
        "write-only: reads show password_set; an update without it keeps it.",
        validators=[storable_json],  # no NUL: PostgreSQL's jsonb cannot hold it
    )

    class Meta:
        model = Channel
        fields = ["id", "organization", "name", "kind", "config", "enabled", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        _same_organization(self, attrs)
        kind = _get(self, attrs, "kind")
        if self.instance is not None and kind != self.instance.kind:
            raise serializers.ValidationError({"kind": "Create a new channel for another kind."})
        previous = self.instance.config if self.instance is not None else None
        try:
            attrs["config"] = validate_config(kind, _get(self, attrs, "config"), previous)
        except ValueError as exc:
            raise serializers.ValidationError({"config": str(exc)}) from None
        return attrs

    def to_representation(self, instance):
        # Channel secrets are write-only, for everybody (owners and inspectors alike).
        data = super().to_representation(instance)
        data["config"] = public_config(instance.kind, instance.config)
        return data


class ChannelWithSecretSerializer(ChannelSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The webhook signing secret (HMAC-SHA256). Shown only when created or "
        "rotated; store it now.",
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]


class AlertRuleSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    node = ScopedPrimaryKeyRelatedField(
        queryset=Node.objects.all(), allow_null=True, required=False
    )
    room = ScopedPrimaryKeyRelatedField(
        queryset=Room.objects.select_related("site"), allow_null=True, required=False
    )
    site = ScopedPrimaryKeyRelatedField(
        queryset=Site.objects.all(), allow_null=True, required=False
    )
    node_model = ScopedPrimaryKeyRelatedField(
        queryset=NodeModel.objects.all(), allow_null=True, required=False
    )
    quantity = serializers.SlugRelatedField(
        slug_field="key",
        queryset=Quantity.objects.all(),
        allow_null=True,
        required=False,
        help_text="Quantity key, e.g. co2. Required by every kind but node_health.",
    )
    channels = ScopedPrimaryKeyRelatedField(
        queryset=Channel.objects.all(), many=True, required=False
    )
    params = serializers.JSONField(
        required=False,
        help_text="Depends on kind (docs/alerts.md); e.g. threshold "
        '{"above": 1000, "clear": 900, "for_seconds": 600}.',
    )

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "organization",
            "name",
            "kind",
            "params",
            "scope",
            "node",
            "room",
            "site",
            "node_model",
            "quantity",
            "severity",
            "channels",
            "notify_resolved",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        organization = _same_organization(self, attrs)
        errors: dict = {}
        scope = _get(self, attrs, "scope") or Scope.ORGANIZATION
        wanted = SCOPE_FIELDS.get(scope)
        for field in SCOPE_FIELDS.values():
            value = _get(self, attrs, field)
            if field == wanted:
                if value is None:
                    errors[field] = f"Required with scope {scope}."
                elif field == "node_model":
                    if value.organization_id not in (None, organization.pk):
                        errors[field] = "This node model belongs to another organization."
                elif _organization_of(value) != organization.pk:
                    errors[field] = "Belongs to another organization than the rule."
            elif value is not None:
                attrs[field] = None  # a target left over from another scope
        kind_key = _get(self, attrs, "kind")
        kind = rules.get(kind_key)
        quantity = _get(self, attrs, "quantity")
        if kind.needs_quantity and quantity is None:
            errors["quantity"] = f"Required by the {kind_key} kind."
        if not kind.needs_quantity and quantity is not None:
            errors["quantity"] = f"The {kind_key} kind watches nodes, not a quantity."
        params = _get(self, attrs, "params")
        try:
            attrs["params"] = kind.validate(params if params is not None else {})
        except ParamError as exc:
            errors["params"] = exc.errors
        except AttributeError:
            errors["params"] = "Must be a JSON object."
        channels = attrs.get("channels", [])
        if any(channel.organization_id != organization.pk for channel in channels):
            errors["channels"] = "Every channel must belong to the rule's organization."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def validate_params(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


def _organization_of(target) -> int:
    if isinstance(target, Room):
        return target.site.organization_id
    return target.organization_id


class AlertSerializer(serializers.ModelSerializer):
    quantity: serializers.SlugRelatedField[Quantity] = serializers.SlugRelatedField(
        slug_field="key", read_only=True
    )
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    kind = serializers.CharField(source="rule.kind", read_only=True)
    device_id = serializers.CharField(source="node.device_id", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    acknowledged_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "organization",
            "rule",
            "rule_name",
            "kind",
            "node",
            "device_id",
            "quantity",
            "severity",
            "message",
            "started_at",
            "opened_at",
            "resolved_at",
            "is_open",
            "last_value",
            "last_ts",
            "acknowledged_at",
            "acknowledged_by",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "organization",
            "channel",
            "alert",
            "forwarder",
            "event",
            "payload",
            "idempotency_key",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class ForwarderSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    channel = ScopedPrimaryKeyRelatedField(queryset=Channel.objects.all())
    quantities = serializers.SlugRelatedField(
        slug_field="key",
        many=True,
        queryset=Quantity.objects.all(),
        required=False,
        help_text="Quantity keys to forward; empty: all.",
    )

    class Meta:
        model = Forwarder
        fields = [
            "id",
            "organization",
            "name",
            "channel",
            "quantities",
            "batch_size",
            "interval",
            "enabled",
            "cursor_ts",
            "last_run_at",
            "created_at",
        ]
        read_only_fields = ["cursor_ts", "last_run_at", "created_at"]

    def validate(self, attrs):
        organization = _same_organization(self, attrs)
        channel = _get(self, attrs, "channel")
        if channel.organization_id != organization.pk:
            raise serializers.ValidationError(
                {"channel": "Must belong to the forwarder's organization."}
            )
        if channel.kind == ChannelKind.EMAIL:
            raise serializers.ValidationError(
                {"channel": "Samples are forwarded to a webhook or MQTT channel, not e-mail."}
            )
        return attrs
