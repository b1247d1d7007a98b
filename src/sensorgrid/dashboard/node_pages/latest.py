"""The "Latest" tab (``/nodes/<id>/``: facts, live values, open alerts) and the
"History" tab (the time-series chart), both kept live over ``/ws/live/`` by node.js."""

from django.contrib.auth.decorators import login_required
from django.urls import reverse

from sensorgrid.dashboard import alert_pages
from sensorgrid.dashboard.node_pages.tabs import node_context, node_or_404, render_tab
from sensorgrid.dashboard.views import (
    DEFAULT_PRESET,
    PRESETS,
    co2_levels,
    is_indoor,
    tiles_for,
)
from sensorgrid.tenancy.time_zones import time_zone_of


@login_required
def node_page(request, pk: int):
    """Facts, live values and open alerts of one node (members only, as the API)."""
    node = node_or_404(request, pk)
    context = node_context(request, node, "latest")
    installation = context["installation"]
    (tile,) = tiles_for(
        request.user, [installation] if installation else [], [] if installation else [node]
    )
    alerts = alert_pages.alerts_for(request.user).open().filter(node=node)
    config = {"node": node.pk, "row": reverse("dashboard:alert-row", args=[0])}
    context.update(
        tile=tile,
        config=config,
        connect_url=tile.connect_url,
        alert_rows=alert_pages.rows(
            alerts.order_by("-opened_at", "-pk")[: alert_pages.MAX_OPEN],
            alert_pages.owner_of(request.user),
        ),
    )
    return render_tab(request, node, "dashboard/node/latest.html", context)


@login_required
def history_page(request, pk: int):
    """The chart of one quantity over a preset range, from the time-series API."""
    node = node_or_404(request, pk)
    context = node_context(request, node, "history")
    installation = context["installation"]
    (tile,) = tiles_for(
        request.user, [installation] if installation else [], [] if installation else [node]
    )
    # A node never heard from has no history: the way to connect it instead of an
    # empty chart (issue 19).
    context["connect_url"] = tile.connect_url
    quantities = {v.quantity: (v.name, v.unit) for v in tile.values}
    if node.model is not None:
        for q in node.model.quantities.all():
            quantities.setdefault(q.key, (q.name, q.unit))
    keys = sorted(quantities, key=lambda k: (k != "co2", k))
    context["config"] = {
        "node": node.pk,
        "timeseries": reverse("node-timeseries", args=[node.pk]),
        "quantities": [
            {"key": k, "name": quantities[k][0], "unit": quantities[k][1]} for k in keys
        ],
        "presets": [{"label": p[0], "seconds": p[1], "bucket": p[2]} for p in PRESETS],
        "preset": DEFAULT_PRESET,
        # The chart's time labels: the organization's time zone, 24-hour.
        "time_zone": time_zone_of(node.organization),
        # The CO2 chart's background bands, from the traffic light's one definition;
        # none outdoors.
        "co2_levels": co2_levels() if is_indoor(installation) else None,
    }
    return render_tab(request, node, "dashboard/node/history.html", context)
