from django.db.models import Count, Q
from django.utils import timezone
from rest_framework import exceptions, serializers

from sensorgrid.tenancy.fields import ScopedPrimaryKeyRelatedField
from sensorgrid.tenancy.models import Invitation, Membership, Organization, Role, User

SUSPEND_OPERATORS_ONLY = "Only operators (superusers) suspend or unsuspend an organization."


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(
        help_text="Your role in this organization; null if you see it because it is public."
    )
    suspended = serializers.BooleanField(
        required=False,
        help_text="Suspended by an operator: its devices are refused at ingest and at the "
        "broker, its members still sign in and read. Only operators (superusers) change it.",
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "role",
            "raw_retention_days",
            "time_zone",
            "suspended",
            "suspended_at",
            "created_at",
        ]
        read_only_fields = ["suspended_at", "created_at"]

    def validate_suspended(self, value: bool) -> bool:
        current = self.instance.suspended if self.instance is not None else False
        if value != current and not self.context["request"].user.is_superuser:
            raise exceptions.PermissionDenied(SUSPEND_OPERATORS_ONLY)
        return value

    def create(self, validated_data):
        if validated_data.pop("suspended", False):
            validated_data["suspended_at"] = timezone.now()
        return super().create(validated_data)

    def update(self, instance, validated_data):
        # Only the fields this request changes are written: ``suspended_at`` only when an
        # operator changes it. A whole-instance save let an owner's edit that loaded
        # before an operator's suspension and saved after it lift the suspension.
        suspended = validated_data.pop("suspended", instance.suspended)
        fields = list(validated_data)
        if suspended != instance.suspended:
            instance.suspended_at = timezone.now() if suspended else None
            fields.append("suspended_at")
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save(update_fields=fields)
        return instance

    def get_role(self, organization) -> str | None:
        roles = self.context.setdefault("_roles", self._roles())
        return roles.get(organization.pk)

    def _roles(self) -> dict[int, str]:
        user = self.context["request"].user
        if not user.is_authenticated:
            return {}
        return dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))


class MembershipSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        help_text="The organization. Only operators (superusers) move a membership to "
        "another one: the member agreed to this one.",
    )
    user = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        help_text="Username of the member. Only operators (superusers) create memberships "
        "or hand one to another user; owners invite by e-mail (`/api/v1/invitations/`).",
    )

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "role", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # validate() names the field; the database constraint closes races

    def validate(self, attrs):
        instance = self.instance
        organization = attrs.get("organization", instance.organization if instance else None)
        user = attrs.get("user", instance.user if instance else None)
        duplicate = Membership.objects.filter(organization=organization, user=user)
        if instance is not None:
            duplicate = duplicate.exclude(pk=instance.pk)
            moved = (
                organization != instance.organization or attrs.get("role", Role.OWNER) != Role.OWNER
            )
            if instance.role == Role.OWNER and moved:
                ensure_other_owner(instance)
        if duplicate.exists():
            raise serializers.ValidationError({"user": f"{user} is already a member."})
        return attrs


ALREADY_MEMBER = "Somebody with this address is a member already."


class InvitationSerializer(serializers.ModelSerializer):
    """A pending invitation. Creating one mails its link to ``email``; the person joins
    only by accepting it (signed in with that address, or creating an account)."""

    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())
    email = serializers.EmailField(
        help_text="Where the link is sent; only an account with this address can accept. "
        "The answer is the same whether such an account exists or not."
    )
    invited_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Username of the owner who invited."
    )

    class Meta:
        model = Invitation
        fields = ["id", "organization", "email", "role", "invited_by", "created_at", "expires_at"]
        read_only_fields = ["created_at", "expires_at"]

    def validate(self, attrs):
        # As the dashboard's invite form: members are not invited again. Only the
        # organization's owners get here (its field accepts what the user may change),
        # and they see their members anyway.
        email = attrs["email"].strip()
        if Membership.objects.filter(
            organization=attrs["organization"], user__email__iexact=email
        ).exists():
            raise serializers.ValidationError({"email": [ALREADY_MEMBER]})
        return {**attrs, "email": email}


def ensure_other_owner(membership: Membership) -> None:
    """Refuse to leave an organization without an owner (a quick check, before writing)."""
    others = (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .aggregate(n=Count("pk", filter=Q(user__is_active=True)))["n"]
    )
    if not others:
        raise serializers.ValidationError({"role": [LAST_OWNER]})


LAST_OWNER = "An organization needs at least one owner; appoint another owner first."


def ensure_owners_remain(organization_ids) -> None:
    """Inside the transaction, after writing: every organization still has an active owner.

    The organizations' rows are locked first, so two owners demoting each other at the
    same moment are serialized and the second is refused.
    """
    ids = sorted(i for i in set(organization_ids) if i is not None)
    if not ids:
        return
    list(Organization.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
    owned = set(
        Membership.objects.filter(
            organization_id__in=ids, role=Role.OWNER, user__is_active=True
        ).values_list("organization_id", flat=True)
    )
    existing = set(Organization.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if existing - owned:
        raise serializers.ValidationError({"role": [LAST_OWNER]})
