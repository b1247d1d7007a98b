from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.exceptions import PermissionDenied

from sensorgrid.api.filters import id_filter
from sensorgrid.tenancy.api.serializers import (
    MembershipSerializer,
    OrganizationSerializer,
    ensure_other_owner,
    ensure_owners_remain,
)
from sensorgrid.tenancy.models import Membership, Organization, Role
from sensorgrid.tenancy.viewsets import TenantModelViewSet


@extend_schema_view(
    list=extend_schema(
        summary="List organizations",
        description="Your organizations, and those that publish a public installation.",
    ),
    create=extend_schema(
        summary="Create an organization", description="You become its first owner."
    ),
)
class OrganizationViewSet(TenantModelViewSet):
    model = Organization
    serializer_class = OrganizationSerializer
    filterset_fields = ["slug"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug", "created_at", "id"]

    def after_create(self, instance) -> None:
        Membership.objects.create(organization=instance, user=self.request.user, role=Role.OWNER)


class MembershipFilter(filters.FilterSet):
    organization = id_filter("organization")

    class Meta:
        model = Membership
        fields = ["organization", "role"]


@extend_schema_view(
    list=extend_schema(summary="List memberships of your organizations"),
    create=extend_schema(
        summary="Add a member", description="Owners add existing users by username."
    ),
    destroy=extend_schema(
        responses={
            204: None,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="It would leave the organization without an owner (on `role`).",
            ),
        }
    ),
)
class MembershipViewSet(TenantModelViewSet):
    model = Membership
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    search_fields = ["user__username"]
    ordering_fields = ["created_at", "role", "id"]

    def get_queryset(self):
        return super().get_queryset().select_related("user")

    def perform_create(self, serializer):
        refuse_self_grant(self.request.user, serializer.validated_data.get("user"))
        super().perform_create(serializer)

    def perform_update(self, serializer):
        refuse_self_grant(self.request.user, serializer.instance.user)
        refuse_self_grant(self.request.user, serializer.validated_data.get("user"))
        old = serializer.instance.organization_id
        with transaction.atomic():
            super().perform_update(serializer)
            ensure_owners_remain({old, serializer.instance.organization_id})

    def perform_destroy(self, instance):
        # Leaving (deleting one's own membership) is allowed, as long as an owner remains.
        if instance.role == Role.OWNER:
            ensure_other_owner(instance)
        with transaction.atomic():
            super().perform_destroy(instance)
            ensure_owners_remain({instance.organization_id})


SELF_GRANT = (
    "Nobody grants themselves a role: another owner of the organization (or a platform "
    "operator) must add you or change your membership. You may only leave (delete it)."
)


def refuse_self_grant(actor, member) -> None:
    """Memberships of oneself are never created or changed by oneself (operators excepted)."""
    if member is None or actor.is_superuser:
        return
    if member.pk == actor.pk:
        raise PermissionDenied(SELF_GRANT)
