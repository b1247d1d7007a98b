from rest_framework import serializers

from sensorgrid.inventory import device_ids
from sensorgrid.inventory.models import (
    FOREIGN_DEVICE_ID,
    Installation,
    Node,
    NodeModel,
    Quantity,
    Room,
    Site,
    foreign_device_id,
    installation_errors,
)
from sensorgrid.tenancy.fields import ScopedPrimaryKeyRelatedField
from sensorgrid.tenancy.models import Organization


class QuantitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Quantity
        fields = ["id", "key", "name", "unit", "min_value", "max_value", "description"]

    def validate(self, attrs):
        low = attrs.get("min_value", getattr(self.instance, "min_value", None))
        high = attrs.get("max_value", getattr(self.instance, "max_value", None))
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_value": "Must not be below min_value."})
        return attrs


class SiteSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())

    class Meta:
        model = Site
        fields = ["id", "organization", "name", "address", "latitude", "longitude", "created_at"]
        read_only_fields = ["created_at"]


class RoomSerializer(serializers.ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(queryset=Site.objects.all())

    class Meta:
        model = Room
        fields = ["id", "site", "name", "floor", "outdoor", "area", "height", "max_occupancy"]


class NodeModelSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        allow_null=True,
        required=False,
        help_text="Your organization, or null for the shared catalogue (administrators only).",
    )
    quantities = serializers.SlugRelatedField(
        slug_field="key", many=True, queryset=Quantity.objects.all(), required=False
    )

    def to_internal_value(self, data):
        # The field was called "decoder" until issue 18 (item 3); clients that still
        # send it are understood for one release (docs/devices.md). "codec" wins.
        if hasattr(data, "copy") and "decoder" in data and "codec" not in data:
            data = data.copy()  # a dict, or a mutable copy of a form's QueryDict
            data["codec"] = data["decoder"]
        return super().to_internal_value(data)

    class Meta:
        model = NodeModel
        fields = [
            "id",
            "organization",
            "manufacturer",
            "name",
            "protocol",
            "codec",
            "quantities",
            "sampling_interval",
        ]


class NodeSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    model = ScopedPrimaryKeyRelatedField(
        queryset=NodeModel.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Node
        fields = [
            "id",
            "organization",
            "device_id",
            "alias",
            "model",
            "metadata",
            "sampling_interval",
            "last_seen",
            "status",
            "status_since",
            "created_at",
        ]
        read_only_fields = ["last_seen", "status", "status_since", "created_at"]

    def validate_metadata(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def validate_device_id(self, value):
        return device_ids.canonical(value)

    def validate(self, attrs):
        organization = attrs.get("organization", getattr(self.instance, "organization", None))
        model = attrs.get("model", getattr(self.instance, "model", None))
        device_id = attrs.get("device_id", getattr(self.instance, "device_id", ""))
        # Unique within the organization, ignoring case; other organizations' ids are
        # theirs and neither block nor capture this one (docs/lorawan.md).
        same = Node.objects.filter(organization=organization, device_id__iexact=device_id)
        if self.instance is not None:
            same = same.exclude(pk=self.instance.pk)
        if organization is not None and same.exists():
            raise serializers.ValidationError(
                {"device_id": "This organization already has a node with this device id."}
            )
        if foreign_device_id(self.instance, getattr(organization, "pk", None), device_id):
            raise serializers.ValidationError({"device_id": FOREIGN_DEVICE_ID})
        if self.instance is not None and organization != self.instance.organization:
            raise serializers.ValidationError(
                {"organization": "A node cannot move to another organization."}
            )
        if model is not None and model.organization_id not in (None, organization.pk):
            raise serializers.ValidationError(
                {"model": "This node model belongs to another organization."}
            )
        return attrs


class NodeWithCredentialSerializer(NodeSerializer):
    credential = serializers.CharField(
        read_only=True,
        help_text="The ingest credential. Shown only in this response; store it now.",
    )

    class Meta(NodeSerializer.Meta):
        fields = [*NodeSerializer.Meta.fields, "credential"]


class InstallationSerializer(serializers.ModelSerializer):
    node = ScopedPrimaryKeyRelatedField(queryset=Node.objects.all())
    room = ScopedPrimaryKeyRelatedField(queryset=Room.objects.select_related("site"))

    class Meta:
        model = Installation
        fields = ["id", "node", "room", "start", "end", "is_public"]

    def validate(self, attrs):
        get = lambda name: attrs.get(name, getattr(self.instance, name, None))  # noqa: E731
        errors = installation_errors(
            get("node"), get("room"), get("start"), get("end"), getattr(self.instance, "pk", None)
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
