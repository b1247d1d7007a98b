from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from sensorgrid.tenancy.scoping import TenantQuerySet
from sensorgrid.tenancy.time_zones import default_time_zone, validate_time_zone


class User(AbstractUser):
    """A person who signs in. What they see follows from their memberships."""

    class Meta:
        db_table = "sensorgrid_user"


class Role(models.TextChoices):
    OWNER = "owner", "Owner (full control)"
    INSPECTOR = "inspector", "Inspector (read only)"


class OrganizationQuerySet(TenantQuerySet):
    org_lookup = "pk"

    def public_q(self) -> Q:
        # Those with a public installation, reached through the reverse relations (sites,
        # rooms, installations): tenancy imports no inventory model, inventory is the
        # layer below it (docs/architecture.md).
        public = self.model._default_manager.filter(sites__rooms__installations__is_public=True)
        return Q(pk__in=public.values("pk"))


class Organization(models.Model):
    """A tenant: owns sites, nodes and everything below them."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    raw_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text="Keep raw samples this many days (empty: forever). Rollups are kept.",
    )
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="IANA time zone name (e.g. Europe/Berlin) the dashboard shows this "
        "organization's times and charts in; stored times stay UTC. Default: the "
        "platform's (SENSORGRID_TIME_ZONE).",
    )
    #: Set by an operator (a superuser), never by the organization's owners: its devices
    #: are refused at ingest and at the broker; its members still sign in and read.
    suspended_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When an operator suspended this organization (empty: not suspended).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def organization_id(self) -> int:
        return self.pk

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None


class MembershipQuerySet(TenantQuerySet):
    pass


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.INSPECTOR)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_user_organization"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class InvitationQuerySet(TenantQuerySet):
    def pending(self) -> "InvitationQuerySet":
        from django.utils import timezone

        # An invitation speaks for its owner only while he is one: demoted, removed or
        # deleted, his pending links stop working (or he could invite himself back in).
        still_owner = Membership.objects.filter(
            organization=models.OuterRef("organization"),
            user=models.OuterRef("invited_by"),
            role=Role.OWNER,
            user__is_active=True,
        )
        # Subqueries, not joins: accepting locks the row (FOR UPDATE refuses outer joins).
        operator = User.objects.filter(
            pk=models.OuterRef("invited_by"), is_superuser=True, is_active=True
        )
        return self.filter(
            models.Q(models.Exists(still_owner)) | models.Q(models.Exists(operator)),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )


class Invitation(models.Model):
    """An owner's invitation of an e-mail address into an organization, with a role.

    The link carries a random token; only its SHA-256 digest is stored (as for API
    tokens), so a copy of the table opens nothing. It works once (``accepted_at``) and
    until ``expires_at`` (SENSORGRID_INVITATION_TTL_HOURS).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.INSPECTOR)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} ({self.role})"
