"""An organization's named dashboards (boards) and their read-only shares (docs/dashboard.md)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, TenantQuerySet, organization_ids


class BoardQuerySet(TenantQuerySet):
    """Members read an organization's boards, owners change them; nothing is public:
    a board is shown to others only through a share (``BoardShare``)."""


class Board(models.Model):
    """A named dashboard: panels on a grid, stored as one JSON document (``layout``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="boards")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, help_text="Unique within the organization.")
    layout = models.JSONField(
        default=dict, help_text="Time range, refresh and panels (docs/dashboard.md, Dashboards)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = BoardQuerySet.as_manager()

    class Meta:
        ordering = ["organization_id", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="board_slug_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class ShareMode(models.TextChoices):
    #: what anonymous users may see anyway: values of public installations, in their periods
    PUBLIC = "public", "Public data only"
    #: the board as its organization's members see it, read-only, for whoever holds the link
    ORGANIZATION = "organization", "Everything on the board"


class BoardShareQuerySet(TenantQuerySet):
    org_lookup = "board__organization"

    def live(self) -> "BoardShareQuerySet":
        return self.filter(revoked_at__isnull=True)

    def by_token(self, token: str) -> "BoardShare | None":
        """The share whose link holds ``token``, if not revoked and its creator may still
        share the board (an owner of its organization, as to create it); its walls apply."""
        if not token or len(token) > 100:
            return None
        found = self.live().select_related("board", "created_by").filter(digest=digest_of(token))
        share = found.first()
        if share is None or share.created_by is None:
            return None
        if share.board.organization_id not in organization_ids(share.created_by, Action.CHANGE):
            return None  # removed, demoted or deactivated since: the link ends with the role
        return share


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BoardShare(models.Model):
    """A read-only link to a board. The token is shown once; only its digest is stored,
    like the API tokens. Revoking keeps the row (who shared what, when) and ends the link."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="shares")
    mode = models.CharField(max_length=20, choices=ShareMode.choices, default=ShareMode.PUBLIC)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The token's first characters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = BoardShareQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.board} ({self.mode}, {self.prefix}…)"

    def issue(self) -> str:
        """A new token for this share (returned once; the digest is kept)."""
        token = secrets.token_urlsafe(24)
        self.digest = digest_of(token)
        self.prefix = token[:8]
        return token
