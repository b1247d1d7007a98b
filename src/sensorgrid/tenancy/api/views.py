from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.exceptions import PermissionDenied

from sensorgrid.api.filters import id_filter
from sensorgrid.tenancy import invitations
from sensorgrid.tenancy.api.serializers import (
    InvitationSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    ensure_other_owner,
    ensure_owners_remain,
)
from sensorgrid.tenancy.models import Invitation, Membership, Organization, Role
from sensorgrid.tenancy.scoping import Action
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


MEMBERSHIP_CHANGE = (
    "Owners change a member's `role`. Handing the membership to another `user` or moving "
    "it to another `organization` is for operators (superusers) only (`403`): nobody is "
    "made a member of an organization he did not accept."
)


@extend_schema_view(
    list=extend_schema(summary="List memberships of your organizations"),
    create=extend_schema(
        summary="Add a member (operators only)",
        description="Platform operators (superusers) add an existing user by username. "
        "Everybody else gets `403` before the username is looked at (so the answer tells "
        "nothing about which usernames exist): owners invite by e-mail with "
        "`POST /api/v1/invitations/`, and the person joins by accepting.",
        responses={
            201: MembershipSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid fields (operators)."),
            403: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Not an operator: invite by e-mail instead."
            ),
        },
    ),
    update=extend_schema(description=MEMBERSHIP_CHANGE),
    partial_update=extend_schema(description=MEMBERSHIP_CHANGE),
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

    def create(self, request, *args, **kwargs):
        # Before validating: the answer must not depend on whether the username exists.
        refuse_direct_membership(request.user)
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        # Compared as text, before the username is looked up (no enumeration either).
        user = request.data.get("user") if hasattr(request.data, "get") else None
        if user is not None and user != self.get_object().user.username:
            refuse_direct_membership(request.user)
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer):
        refuse_self_grant(self.request.user, serializer.validated_data.get("user"))
        super().perform_create(serializer)

    def perform_update(self, serializer):
        refuse_self_grant(self.request.user, serializer.instance.user)
        refuse_self_grant(self.request.user, serializer.validated_data.get("user"))
        moved_to = serializer.validated_data.get("organization", serializer.instance.organization)
        if moved_to != serializer.instance.organization:  # an organization he owns, else 400
            refuse_direct_membership(self.request.user)
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


class InvitationFilter(filters.FilterSet):
    organization = id_filter("organization")

    class Meta:
        model = Invitation
        fields = ["organization", "role"]


@extend_schema_view(
    list=extend_schema(
        summary="List pending invitations",
        description="The invitations of the organizations you own that can still be "
        "accepted (not used, not expired, their owner still an owner). Inspectors see none.",
    ),
    create=extend_schema(
        summary="Invite somebody by e-mail",
        description="Owners invite an e-mail address with a role; the link is mailed "
        "there (never returned) and works once, until `expires_at` "
        "(`SENSORGRID_INVITATION_TTL_HOURS`). Only an account with that address joins, by "
        "accepting (or the person creates one from the link). The answer is the same "
        "whether an account with the address exists or not. A newer invitation of the "
        "same address replaces the pending one.",
        responses={
            201: InvitationSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Invalid fields, or somebody with this address is a member already.",
            ),
            403: OpenApiResponse(
                OpenApiTypes.OBJECT, description="You see the organization but do not own it."
            ),
        },
    ),
    retrieve=extend_schema(
        summary="A pending invitation", description="Of an organization you own."
    ),
    destroy=extend_schema(
        summary="Withdraw an invitation", description="Its link no longer works."
    ),
)
class InvitationViewSet(TenantModelViewSet):
    """Pending invitations: how owners bring somebody in (``tenancy.invitations``)."""

    model = Invitation
    serializer_class = InvitationSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_class = InvitationFilter
    search_fields = ["email"]
    ordering_fields = ["created_at", "expires_at", "email", "id"]

    def get_queryset(self):
        # Owners only: the addresses an organization invites are not its inspectors' to read.
        rows = Invitation.objects.pending().for_user(self.request.user, Action.CHANGE)
        return rows.select_related("organization", "invited_by")

    def perform_create(self, serializer):
        self.require_change_of(self.target_organizations(serializer))
        data = serializer.validated_data
        with transaction.atomic():
            invitation, token = invitations.issue(
                data["organization"],
                data["email"],
                data.get("role", Role.INSPECTOR),
                self.request.user,
            )
            self.require_change_of(self.stored_organizations(invitation))
        serializer.instance = invitation
        invitations.mail(self.request, invitation, token)


DIRECT_MEMBERSHIP = (
    "Nobody is made a member without accepting: owners invite by e-mail "
    "(POST /api/v1/invitations/, or the organization's page in the dashboard) and the "
    "person joins by accepting the link. Only operators add, hand over or move "
    "memberships directly."
)


def refuse_direct_membership(actor) -> None:
    """Only operators create a membership for somebody, or hand or move one (not owners)."""
    if not actor.is_superuser:
        raise PermissionDenied(DIRECT_MEMBERSHIP)


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
