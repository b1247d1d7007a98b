"""The tab bar of a node's pages: one list, so every page (also ones other modules
own, like settings and connect) shows the same tabs in the same order."""

from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sensorgrid.dashboard.lists import table
from sensorgrid.dashboard.views import active_installations, visible_or_404
from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.time_zones import time_zone_of

#: (key, label, URL name) in the order the bar shows them.
TABS = [
    ("latest", "Latest", "dashboard:node"),
    ("history", "History", "dashboard:node-history"),
    ("alerts", "Alerts", "dashboard:node-alerts"),
    ("status", "Status history", "dashboard:node-status"),
    ("radio", "Radio", "dashboard:node-radio"),
    ("images", "Images", "dashboard:node-images"),
    ("dead-letters", "Dead letters", "dashboard:node-dead-letters"),
    ("settings", "Settings", "dashboard:node-settings"),
    # The connect page may not be installed (yet): the bar then leaves it out.
    ("connect", "Connect", "dashboard:node-connect"),
]


@dataclass(frozen=True, slots=True)
class Tab:
    key: str
    label: str
    url: str
    current: bool


def node_tabs(node: Node, current: str) -> list[Tab]:
    """The tabs of ``node``'s pages, ``current`` (a key of ``TABS``) marked."""
    tabs = []
    for key, label, name in TABS:
        try:
            url = reverse(name, args=[node.pk])
        except NoReverseMatch:
            continue
        tabs.append(Tab(key, label, url, key == current))
    return tabs


def node_or_404(request, pk: int) -> Node:
    """The node ``pk`` if the user is a member of its organization (an operator: any)."""
    nodes = Node.objects.for_user(request.user).select_related("organization", "model")
    return visible_or_404(nodes, pk)


def render_tab(request, node: Node, template: str, context: dict, **kwargs) -> HttpResponse:
    """A tab's page, its times in the node's organization's time zone (one organization's
    page: Organization.time_zone, docs/dashboard.md)."""
    with timezone.override(time_zone_of(node.organization)):
        return render(request, template, context, **kwargs)


def node_context(request, node: Node, current: str, **extra) -> dict:
    """What every tab's page shows above its content: breadcrumb, name, tab bar."""
    installation = active_installations(request.user).filter(node=node).first()
    label = next(label for key, label, _ in TABS if key == current)
    return {
        "node": node,
        "installation": installation,
        "current_tab": current,
        "tab_label": label,
        **extra,
    }


def page_or_error(request, queryset, rows_of=list) -> tuple[table.Page | None, str]:
    """Page ``?page=`` of ``queryset`` (50 rows, lists.table), or why there is none."""
    raw = request.GET.get("page") or "1"
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if not 1 <= number <= 1_000_000:
        return None, f"Page: {raw[:20]!r} is not a page number."
    try:
        return table.page_of(queryset, number, request.GET, rows_of), ""
    except table.PageMissing as missing:
        return None, str(missing)
