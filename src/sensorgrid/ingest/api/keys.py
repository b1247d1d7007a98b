"""``/api/v1/ingest-keys/``: organization-wide ingest credentials, shown once."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from sensorgrid.api.filters import id_filter
from sensorgrid.ingest.models import IngestKey
from sensorgrid.tenancy.fields import ScopedPrimaryKeyRelatedField
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.viewsets import TenantModelViewSet


class IngestKeySerializer(serializers.ModelSerializer[IngestKey]):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    key = serializers.CharField(
        read_only=True, help_text="The secret. Shown only when the key is created; store it now."
    )

    class Meta:
        model = IngestKey
        fields = ["id", "organization", "name", "key", "created_at", "last_used_at"]
        read_only_fields = ["created_at", "last_used_at"]


class IngestKeyFilter(filters.FilterSet):
    organization = id_filter("organization")

    class Meta:
        model = IngestKey
        fields = ["organization"]


@extend_schema_view(
    list=extend_schema(summary="List ingest keys", description="Secrets are never listed."),
    create=extend_schema(
        summary="Create an ingest key",
        description="Owners only. The response carries `key`, shown only once.",
    ),
)
class IngestKeyViewSet(TenantModelViewSet):
    model = IngestKey
    serializer_class = IngestKeySerializer
    filterset_class = IngestKeyFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "last_used_at", "id"]

    def perform_create(self, serializer: IngestKeySerializer) -> None:  # type: ignore[override]
        holder = IngestKey()
        key = holder.issue()
        serializer.validated_data["digest"] = holder.digest
        # Checks the owner role, inside the transaction. (The base class is not typed yet.)
        super().perform_create(serializer)  # type: ignore[no-untyped-call]
        serializer.instance.key = key  # type: ignore[union-attr]  # saved just above
