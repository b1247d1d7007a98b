"""The one place that decides which rows a user may see or change.

Every model that belongs to an organization uses a ``TenantQuerySet`` subclass and
declares how to reach its organization (``org_lookup``) and, if anything of it can be
public, which rows a public installation publishes (``public_q``). Views, serializers
and the admin call ``for_user(user, action)``; nobody filters by organization by hand.
Code that needs the organizations themselves, not rows (is this alert's organization
one the user owns?), asks ``organization_ids(user, action)``: the same rule, as ids.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from django.db import models
from django.db.models import Q


class Action(StrEnum):
    """What a user wants to do: any member may VIEW, only an OWNER may CHANGE."""

    VIEW = "view"
    CHANGE = "change"


def sees_everything(user) -> bool:
    """Whether ``user`` is an active superuser: every organization, every action."""
    return user is not None and user.is_active and user.is_superuser


def member_organizations(user, action: Action = Action.VIEW) -> models.QuerySet:
    """Ids of the organizations ``user`` belongs to (as OWNER when ``action`` is CHANGE),
    as a subquery; superusers get no special treatment here (``organization_ids`` does)."""
    from sensorgrid.tenancy.models import Membership, Role

    memberships = Membership.objects.filter(user_id=user.pk)
    if action == Action.CHANGE:
        memberships = memberships.filter(role=Role.OWNER)
    return memberships.values("organization_id")


@dataclass(frozen=True, slots=True)
class OrganizationIds:
    """The organizations a user may act on: ``ids``, or every one (``everything``).

    ``organization_id in ids`` and ``queryset.filter(ids.q("organization"))`` read the
    same for a superuser and a member, so callers never test ``is_superuser`` themselves.
    """

    ids: frozenset[int] = frozenset()
    everything: bool = False

    def __contains__(self, organization_id: object) -> bool:
        return self.everything or organization_id in self.ids

    def __bool__(self) -> bool:
        """Whether there is any organization at all."""
        return self.everything or bool(self.ids)

    def q(self, lookup: str = "organization") -> Q:
        """Rows whose ``lookup`` (a path to an organization) is one of these."""
        return Q() if self.everything else Q(**{f"{lookup}__in": self.ids})


EVERY_ORGANIZATION = OrganizationIds(everything=True)
NO_ORGANIZATION = OrganizationIds()


def organization_ids(user, action: Action = Action.VIEW) -> OrganizationIds:
    """The organizations ``user`` may ``action``: those he is a member of (an OWNER of,
    for CHANGE), every one for an active superuser, none for anonymous or inactive users.

    The rule of ``TenantQuerySet.for_user`` without its public rows; one query (none for
    superusers and anonymous users).
    """
    if sees_everything(user):
        return EVERY_ORGANIZATION
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ORGANIZATION
    ids = member_organizations(user, action).values_list("organization_id", flat=True)
    return OrganizationIds(frozenset(ids))


class TenantQuerySet(models.QuerySet):
    #: Lookup from this model to its Organization's primary key.
    org_lookup: str = "organization"

    def public_q(self) -> Q | None:
        """Rows visible to everybody because a public installation publishes them."""
        return None

    def shared_q(self) -> Q | None:
        """Rows of a shared catalogue: everybody may point at them, administrators change them."""
        return None

    def for_user(self, user, action: Action = Action.VIEW) -> Self:
        """Rows ``user`` may see (``VIEW``) or modify (``CHANGE``)."""
        if sees_everything(user):
            return self.all()
        allowed = Q(pk__in=[])
        if user is not None and user.is_authenticated and user.is_active:
            allowed |= Q(**{f"{self.org_lookup}__in": member_organizations(user, action)})
        if action == Action.VIEW:
            public = self.public_q()
            if public is not None:
                allowed |= public
        return self.filter(allowed)

    def referable_by(self, user) -> Self:
        """Rows ``user`` may point at from something he writes: his own to change, or shared.

        Seeing a row is not enough: a public installation makes an organization, a site
        and a room visible to everybody, yet nobody may put things into them but owners.
        """
        changeable = self.for_user(user, Action.CHANGE)
        shared = self.shared_q()
        if shared is None:
            return changeable
        return changeable | self.filter(shared)

    def can(self, user, action: Action, obj: models.Model) -> bool:
        """Whether ``user`` may apply ``action`` to ``obj`` (one query)."""
        return self.model._default_manager.for_user(user, action).filter(pk=obj.pk).exists()

    def organization_ids(self) -> set[int | None]:
        """The organizations these rows belong to, as stored (None: shared or unclaimed)."""
        return set(self.order_by().values_list(self.org_lookup, flat=True).distinct())


def target_organization_id(model, values: dict, instance=None) -> int | None:
    """The organization an object of ``model`` will belong to once ``values`` are saved.

    Resolved through the parent named in ``values`` (a room's site, an installation's
    node), falling back to ``instance``'s current parent for fields not being changed.
    Raises ``LookupError`` for a new organization (it belongs to nobody yet).
    """
    lookup = model._default_manager.all().org_lookup
    head, _, rest = lookup.partition("__")
    if head == "pk":
        if instance is None or instance.pk is None:
            raise LookupError("a new organization")
        return instance.pk
    parent = values[head] if head in values else getattr(instance, head, None)
    if parent is None:
        return None
    if not rest:
        return parent.pk
    *path, last = rest.split("__")
    for name in path:
        parent = getattr(parent, name)
    return getattr(parent, f"{last}_id")


def changeable_organizations(user, organization_ids) -> bool:
    """Whether ``user`` may change every organization in ``organization_ids``.

    ``None`` stands for "no organization" (shared catalogue, unclaimed rows): superusers only.
    """
    from sensorgrid.tenancy.models import Organization

    if sees_everything(user):
        return True
    wanted = set(organization_ids)
    if None in wanted:
        return False
    allowed = Organization.objects.for_user(user, Action.CHANGE).filter(pk__in=wanted)
    return allowed.count() == len(wanted)
