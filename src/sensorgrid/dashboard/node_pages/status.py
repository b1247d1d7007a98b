"""The "Status history" tab: the node's health transitions (fidelity), newest first,
each with how long the state it began lasted, 50 to a page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.utils import timezone

from sensorgrid.dashboard.node_pages.tabs import (
    node_context,
    node_or_404,
    page_or_error,
    render_tab,
)
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.inventory.models import Node


@dataclass(frozen=True, slots=True)
class Transition:
    change: NodeStatusChange
    until: datetime | None  # when the next state began; None: still in this state

    @property
    def lasted(self) -> timedelta:
        return (self.until or timezone.now()) - self.change.at


def transitions(node: Node, changes: list[NodeStatusChange]) -> list[Transition]:
    """``changes`` (newest first, one page) with the moment each state ended: the start
    of the next newer change, on this page or (for its first row) just before it."""
    if not changes:
        return []
    first = changes[0]
    newer = (
        NodeStatusChange.objects.filter(node=node)
        .filter(Q(at__gt=first.at) | Q(at=first.at, pk__gt=first.pk))
        .order_by("at", "pk")
        .values_list("at", flat=True)
        .first()
    )
    ends = [newer, *(change.at for change in changes[:-1])]
    return [Transition(change, end) for change, end in zip(changes, ends, strict=True)]


def duration(delta: timedelta) -> str:
    """``2 d 3 h``, ``3 h 5 min``, ``4 min``, ``12 s``: the two largest units."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


@login_required
def status_page(request, pk: int):
    node = node_or_404(request, pk)
    changes = NodeStatusChange.objects.filter(node=node).order_by("-at", "-pk")
    page, error = page_or_error(request, changes)
    rows = [(row, duration(row.lasted)) for row in transitions(node, page.rows)] if page else []
    context = node_context(request, node, "status", page=page, rows=rows, error=error)
    return render_tab(
        request, node, "dashboard/node/status.html", context, status=400 if error else 200
    )
