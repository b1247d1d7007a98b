"""The "Alerts" tab: the node's open alerts and its most recently resolved ones, as
``/alerts/`` shows them (the same rows, live through the same alert frames)."""

from django.contrib.auth.decorators import login_required
from django.urls import reverse

from sensorgrid.dashboard import alert_pages
from sensorgrid.dashboard.node_pages.tabs import node_context, node_or_404, render_tab


@login_required
def alerts_page(request, pk: int):
    node = node_or_404(request, pk)
    alerts = alert_pages.alerts_for(request.user).filter(node=node)
    owned = alert_pages.owner_of(request.user)
    current = alerts.open().order_by("-opened_at", "-pk")[: alert_pages.MAX_OPEN]
    done = alerts.filter(resolved_at__isnull=False).order_by("-resolved_at", "-pk")
    context = node_context(
        request,
        node,
        "alerts",
        open_rows=alert_pages.rows(current, owned),
        resolved_rows=alert_pages.rows(done[: alert_pages.RECENT_RESOLVED], owned),
        recent=alert_pages.RECENT_RESOLVED,
        config={"node": node.pk, "row": reverse("dashboard:alert-row", args=[0])},
    )
    return render_tab(request, node, "dashboard/node/alerts.html", context)
