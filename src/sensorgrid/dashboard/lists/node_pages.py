"""The device list (``/nodes/``) and its CSV export (``/nodes/export.csv``).

Bad parameters (a status that is none, a foreign or deleted site, page 0) answer the
page itself with status 400 and what is wrong, never a 500 and never the rows of a
different filter than the one asked for.
"""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from sensorgrid.dashboard.lists import table
from sensorgrid.dashboard.lists.node_query import (
    Criteria,
    NodeFilter,
    attach_rooms,
    export_rows,
    nodes_for,
    page_rows,
)

COLUMNS = [
    table.Column("Name", "name"),
    table.Column("Device id", "device_id"),
    table.Column("Model", "model"),
    table.Column("Organization", "organization"),
    table.Column("Site / room"),
    table.Column("Status", "status"),
    table.Column("Last seen", "last_seen"),
    table.Column("Open alerts", "alerts", numeric=True),
]
CSV_HEADER = [
    "name",
    "device_id",
    "model",
    "organization",
    "site",
    "room",
    "status",
    "last_seen",
    "open_alerts",
]
CSV_CHUNK = 500
FILTERS = ("q", "status", "model", "organization", "site", "room", "alerts")


@login_required
def nodes_page(request):
    form = NodeFilter(request.GET, user=request.user)
    context: dict = {"form": form, "errors": [], "page": None}
    status = 200
    if form.is_valid():
        criteria = Criteria.of(form.cleaned_data)
        nodes = nodes_for(request.user, criteria)
        try:
            number = form.cleaned_data.get("page") or 1
            page = table.page_of(nodes, number, request.GET, page_rows)
        except table.PageMissing as missing:
            context["errors"] = [str(missing)]
            status = 400
        else:
            context["page"] = page
        context["headers"] = table.headers(COLUMNS, request.GET, criteria.sort)
    else:
        context["errors"] = table.errors_of(form)
        status = 400
    context["filtered"] = any(request.GET.get(name) for name in FILTERS)
    context["controls"] = form.controls()
    context["sort"] = request.GET.get("sort", "")
    context["csv_url"] = reverse("dashboard:nodes-csv") + table.link(request.GET, page=None)
    return render(request, "dashboard/lists/nodes.html", context, status=status)


@login_required
def nodes_csv(request):
    """The filtered list (every page) as CSV, streamed in chunks of ``CSV_CHUNK``."""
    form = NodeFilter(request.GET, user=request.user)
    if not form.is_valid():
        message = "Cannot export: " + "; ".join(table.errors_of(form)) + "\n"
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    nodes = export_rows(nodes_for(request.user, Criteria.of(form.cleaned_data)))

    def rows() -> Iterator[list]:
        chunk: list = []
        for node in nodes.iterator(chunk_size=CSV_CHUNK):
            chunk.append(node)
            if len(chunk) == CSV_CHUNK:
                yield from _csv_rows(chunk)
                chunk = []
        yield from _csv_rows(chunk)

    return table.stream_csv("nodes.csv", CSV_HEADER, rows())


def _csv_rows(nodes: list) -> Iterator[list]:
    attach_rooms(nodes)
    for node in nodes:
        room = node.room
        yield [
            str(node),
            node.device_id,
            str(node.model) if node.model else "",
            node.organization.name,
            room.site.name if room else "",
            room.name if room else "",
            node.status.lower(),
            node.last_seen.isoformat() if node.last_seen else "",
            node.open_alerts,
        ]
