"""Template helpers of the dashboard pages."""

from django import template

from sensorgrid.tenancy.models import Organization

register = template.Library()


@register.simple_tag
def organizations_of(user):
    """The organizations ``user`` is a member of, for the navigation."""
    if user is None or not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user).order_by("name").distinct()


@register.simple_tag
def quantity_registry():
    """Name and unit of every quantity, for values that arrive live."""
    from sensorgrid.inventory.models import Quantity

    return {q.key: {"name": q.name, "unit": q.unit} for q in Quantity.objects.all()}
