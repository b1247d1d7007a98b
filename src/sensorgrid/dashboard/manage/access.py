"""Who may open which management page.

Management pages are for members: a stranger gets the 404 for every id, also for a
site or room that a public installation makes visible (publishing shows data, it does
not open the settings). Members who may not change (inspectors) get read-only pages;
a form they post anyway is a 403, since they already know the object exists.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Model

from sensorgrid.dashboard.views import visible_or_404
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, TenantQuerySet, organization_ids

OWNERS_ONLY = "Only owners of the organization change it; you may look."


def member_rows(model: type[Model], user, action: Action = Action.VIEW) -> TenantQuerySet:
    """Rows of ``model`` in the organizations ``user`` belongs to (owns, for CHANGE)."""
    rows = model._default_manager.all()
    if not isinstance(rows, TenantQuerySet):
        raise TypeError(f"{model.__name__} has no TenantQuerySet manager")
    return rows.filter(organization_ids(user, action).q(rows.org_lookup))


def member_object_or_404(queryset: TenantQuerySet, user, pk: int):
    """Object ``pk`` of ``queryset`` if ``user`` is a member of its organization, else 404."""
    return visible_or_404(queryset.filter(organization_ids(user).q(queryset.org_lookup)), pk)


def may_change(user, obj: Model) -> bool:
    rows = type(obj)._default_manager.all()
    return isinstance(rows, TenantQuerySet) and rows.can(user, Action.CHANGE, obj)


def require_change(user, obj: Model) -> None:
    if not may_change(user, obj):
        raise PermissionDenied(OWNERS_ONLY)


def owned_organizations(user):
    return Organization.objects.for_user(user, Action.CHANGE).order_by("name")


def require_some_organization(user) -> None:
    """Creating needs the owner role in at least one organization."""
    if not owned_organizations(user).exists():
        raise PermissionDenied("Only owners of an organization add things to it.")
