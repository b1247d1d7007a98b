"""Template helpers of the management pages, for pages that show a management link."""

from django import template

from sensorgrid.dashboard.manage import access

register = template.Library()


@register.simple_tag
def may_change(user, obj) -> bool:
    """Whether ``user`` owns ``obj``'s organization: only then are forms and buttons shown."""
    return bool(user.is_authenticated) and access.may_change(user, obj)
