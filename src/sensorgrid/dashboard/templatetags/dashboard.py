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
    from sensorgrid.dashboard.views import co2_levels
    from sensorgrid.inventory.models import Quantity

    registry = {q.key: {"name": q.name, "unit": q.unit} for q in Quantity.objects.all()}
    if "co2" in registry:
        registry["co2"]["levels"] = co2_levels()  # tiles.js's traffic light (views.py)
    return registry


@register.simple_tag
def co2_limits() -> dict[str, int]:
    """The CO2 traffic light's limits, for the legend."""
    from sensorgrid.dashboard.views import co2_levels

    return co2_levels()
