"""A node's Connect page and the live status it polls (issue 19, onboarding).

The page shows how this device sends (MQTT, HTTP, LoRaWAN webhooks) with a placeholder
for the credential, which only the answer that issued it carries (node_pages). Members
see it; owners also get the button that rotates the credential. The status is JSON
for members only: a stranger gets the 404 of every node page.
"""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from sensorgrid.dashboard.manage import connect, connect_status
from sensorgrid.dashboard.manage.access import may_change
from sensorgrid.dashboard.manage.node_pages import node_of


@login_required
def node_connect(request, pk: int):
    node = node_of(request, pk)
    context = {
        "node": node,
        "panel": connect.panel(request, node),
        "owner": may_change(request.user, node),
        "status": connect_status.status(node),
    }
    return render(request, "dashboard/manage/connect.html", context)


@never_cache
@login_required
def node_connect_status(request, pk: int):
    return JsonResponse(connect_status.status(node_of(request, pk)))
