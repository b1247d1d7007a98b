"""The one place that decides which rows a user may see or change.

Every model that belongs to an organization uses a ``TenantQuerySet`` subclass and
declares how to reach its organization (``org_lookup``) and, if anything of it can be
public, which rows a public installation publishes (``public_q``). Views, serializers
and the admin call ``for_user(user, action)``; nobody filters by organization by hand.
"""

from enum import StrEnum

from django.db import models
from django.db.models import Q


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"


def member_organizations(user, action: Action = Action.VIEW) -> models.QuerySet:
    """Ids of the organizations ``user`` belongs to (as OWNER when ``action`` is CHANGE)."""
    from sensorgrid.tenancy.models import Membership, Role

    memberships = Membership.objects.filter(user_id=user.pk)
    if action == Action.CHANGE:
        memberships = memberships.filter(role=Role.OWNER)
    return memberships.values("organization_id")


class TenantQuerySet(models.QuerySet):
    #: Lookup from this model to its Organization's primary key.
    org_lookup: str = "organization"

    def public_q(self) -> Q | None:
        """Rows visible to everybody because a public installation publishes them."""
        return None

    def for_user(self, user, action: Action = Action.VIEW) -> "TenantQuerySet":
        """Rows ``user`` may see (``VIEW``) or modify (``CHANGE``)."""
        if user is not None and user.is_active and user.is_superuser:
            return self.all()
        allowed = Q(pk__in=[])
        if user is not None and user.is_authenticated and user.is_active:
            allowed |= Q(**{f"{self.org_lookup}__in": member_organizations(user, action)})
        if action == Action.VIEW:
            public = self.public_q()
            if public is not None:
                allowed |= public
        return self.filter(allowed)

    def can(self, user, action: Action, obj: models.Model) -> bool:
        """Whether ``user`` may apply ``action`` to ``obj`` (one query)."""
        return self.model._default_manager.for_user(user, action).filter(pk=obj.pk).exists()


def public_installations():
    from sensorgrid.inventory.models import Installation

    return Installation.objects.filter(is_public=True)
