"""The live outlier page (issue 23): scored pictures of the user's organizations, newest
first, each with its reconstruction, error against threshold and verdict; owners
acknowledge outliers. New scores arrive over /ws/live/ (``outlier`` frames, members
only) and the page fetches each one's card as the server renders it (``outlier_row``),
as the alerts page does with its rows (docs/images.md, "The outlier page").

Scores are for members of the node's organization only, public installation or not;
inspectors see them, owners acknowledge (403 otherwise); anything foreign is a 404.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sensorgrid.dashboard.alert_pages import _safe_next
from sensorgrid.dashboard.node_pages.tabs import page_or_error
from sensorgrid.dashboard.views import visible_or_404
from sensorgrid.inventory.models import Node
from sensorgrid.outliers import service
from sensorgrid.outliers.models import OutlierScore
from sensorgrid.storable import MAX_ID
from sensorgrid.tenancy import time_zones
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import (
    Action,
    OrganizationIds,
    member_organizations,
    organization_ids,
)

#: ?show= choices: every scored picture, outliers, outliers nobody acknowledged yet
SHOW = [("", "Every scored picture"), ("outliers", "Outliers"), ("open", "Outliers to look at")]


def scores_for(user):
    """The scores ``user`` may see: those of his organizations' nodes (members only)."""
    return OutlierScore.objects.for_user(user, Action.VIEW).select_related(
        "node", "image", "model", "acknowledged_by"
    )


def card(score: OutlierScore, owned: OrganizationIds) -> dict:
    return {
        "score": score,
        "ratio": score.score / score.threshold if score.threshold > 0 else None,
        "can_acknowledge": score.is_outlier
        and score.acknowledged_at is None
        and score.node.organization_id in owned,
    }


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None


@login_required
def outliers_page(request):
    """Scored pictures of the user's organizations (one, or one node), newest first."""
    show = request.GET.get("show", "")
    if show not in dict(SHOW):
        show = ""
    # The organizations the user belongs to (a superuser's too, as on the alerts page:
    # following every organization live would join one group per node of the platform).
    organizations = list(
        Organization.objects.filter(
            pk__in=member_organizations(request.user).values("organization_id")
        ).order_by("name")
    )
    scores = scores_for(request.user)
    organization = node = None
    if (pk := _number(request.GET.get("organization", ""))) is not None:
        visible = Organization.objects.filter(organization_ids(request.user).q("pk"))
        organization = visible_or_404(visible, pk)
        scores = scores.filter(node__organization=organization)
    if (pk := _number(request.GET.get("node", ""))) is not None:
        node = visible_or_404(Node.objects.for_user(request.user, Action.VIEW), pk)
        scores = scores.filter(node=node)
    if show:
        scores = scores.filter(is_outlier=True)
    if show == "open":
        scores = scores.filter(acknowledged_at__isnull=True)
    owned = organization_ids(request.user, Action.CHANGE)
    page, error = page_or_error(
        request, scores.order_by("-ts", "-pk"), lambda rows: [card(s, owned) for s in rows]
    )
    if node is not None:
        subscriptions = [{"node": node.pk}]
    else:
        followed = [organization] if organization else organizations
        subscriptions = [{"organization": o.pk} for o in followed]
    context = {
        "page": page,
        "error": error,
        "show": show,
        "shows": SHOW,
        "organizations": organizations,
        "organization": organization,
        "node": node,
        "config": {
            "subscriptions": subscriptions,
            "row": reverse("dashboard:outlier-row", args=[0]),
            "node": node.pk if node else None,
            "onlyOutliers": bool(show),
            # New scores are placed on the first page only (later pages stay as paged).
            "live": page is not None and page.number == 1,
        },
    }
    return render(request, "dashboard/outliers.html", context, status=400 if error else 200)


@login_required
def outlier_row(request, pk: int):
    """One score's card, for the page that inserts or updates it live."""
    score = visible_or_404(scores_for(request.user), pk)
    context = {
        **card(score, organization_ids(request.user, Action.CHANGE)),
        "next": _safe_next(request, reverse("dashboard:outliers")),
    }
    zone = request.GET.get("tz", "")
    with timezone.override(zone if zone in time_zones.known() else settings.TIME_ZONE):
        return render(request, "dashboard/_outlier_card.html", context)


@login_required
@require_POST
def acknowledge(request, pk: int):
    """Owners mark an outlier seen, and the open image-outlier alert it is part of."""
    score = visible_or_404(scores_for(request.user), pk)
    if score.node.organization_id not in organization_ids(request.user, Action.CHANGE):
        raise PermissionDenied("Only owners of the organization acknowledge its outliers.")
    service.acknowledge(score, request.user, timezone.now())
    return redirect(_safe_next(request, reverse("dashboard:outliers")))


urlpatterns = [
    path("outliers/", outliers_page, name="outliers"),
    path("outliers/<int:pk>/row/", outlier_row, name="outlier-row"),
    path("outliers/<int:pk>/acknowledge/", acknowledge, name="outlier-acknowledge"),
]
