"""Template helpers of the management pages, for pages that show a management link."""

from django import template

from sensorgrid.dashboard.manage import access

register = template.Library()


@register.simple_tag
def may_change(user, obj) -> bool:
    """Whether ``user`` owns ``obj``'s organization: only then are forms and buttons shown."""
    return bool(user.is_authenticated) and access.may_change(user, obj)


@register.simple_tag
def is_member(user, obj) -> bool:
    """Whether ``user`` belongs to ``obj``'s organization (management pages are members')."""
    rows = access.member_rows(type(obj), user)
    return bool(user.is_authenticated) and rows.filter(pk=obj.pk).exists()
