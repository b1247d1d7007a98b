"""The dashboards' pages: the list (new, import), a board (viewed by members, edited in
place by owners: boards.js) and a share link's read-only page. Panels read the member
APIs (time series, latest, alerts, geo, images) and the /ws/live/ subscriptions; a share
page reads /api/v1/shared-boards/<token>/ instead (docs/dashboard.md, Dashboards)."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from sensorgrid.boards import layout
from sensorgrid.boards.api.serializers import BoardSerializer
from sensorgrid.boards.models import Board, BoardShare, ShareMode
from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, organization_ids

MAX_IMPORT_BYTES = 512 * 1024


def _map() -> dict:
    """The basemap of map panels, as the map page draws it (docs/dashboard.md, "Basemap")."""
    return {
        "tiles": settings.SENSORGRID_MAP_TILES,
        "attribution": settings.SENSORGRID_MAP_ATTRIBUTION,
        "attribution_url": settings.SENSORGRID_MAP_ATTRIBUTION_URL,
        "basemap": static("dashboard/vendor/basemap.json"),
    }


def _owned(user):
    return Organization.objects.for_user(user, Action.CHANGE).order_by("name")


@login_required
def board_list(request):
    boards = Board.objects.for_user(request.user).select_related("organization", "created_by")
    return render(
        request,
        "boards/list.html",
        {
            "boards": boards,
            "organizations": _owned(request.user),
        },
    )


def _create(request, data) -> Board:
    """A new board through the API's serializer (the same validation); owners only."""
    owned = organization_ids(request.user, Action.CHANGE)
    wanted = str(data.get("organization", ""))
    if not (wanted.isdigit() and len(wanted) < 10 and int(wanted) in owned):
        raise PermissionDenied
    serializer = BoardSerializer(data=data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.save(created_by=request.user)


def _refused(error: ValidationError) -> str:
    return json.dumps(error.detail)[:300]


@login_required
@require_POST
def board_new(request):
    data = {
        "organization": request.POST.get("organization", ""),
        "name": request.POST.get("name", ""),
        "layout": {"range": "24h", "refresh": 0, "panels": []},
    }
    try:
        board = _create(request, data)
    except ValidationError as error:
        messages.error(request, f"Not saved: {_refused(error)}")
        return redirect("boards:list")
    return redirect("boards:board", pk=board.pk)


@login_required
@require_POST
def board_import(request):
    upload = request.FILES.get("file")
    try:
        if upload is None or upload.size > MAX_IMPORT_BYTES:
            raise ValidationError({"file": ["Choose an exported board file (at most 512 KB)."]})
        try:
            document = json.loads(upload.read())
        except ValueError:
            raise ValidationError({"file": ["This is not a JSON file."]}) from None
        if not isinstance(document, dict):
            raise ValidationError({"file": ["This is not an exported board."]})
        document = {**document, "organization": request.POST.get("organization", "")}
        board = _create(request, document)
    except ValidationError as error:
        messages.error(request, f"Not saved: {_refused(error)}")
        return redirect("boards:list")
    return redirect("boards:board", pk=board.pk)


def _catalogue(organization_id: int) -> dict:
    """The organization's nodes and the quantities, for the panel editor and labels."""
    nodes = Node.objects.filter(organization_id=organization_id).order_by("alias", "device_id")
    return {
        "nodes": [
            {"id": n.pk, "label": n.alias or n.device_id}
            for n in nodes.only("pk", "alias", "device_id")
        ],
        "quantities": [
            {"key": q.key, "name": q.name, "unit": q.unit} for q in Quantity.objects.order_by("key")
        ],
    }


@login_required
def board_page(request, pk: int):
    board = (
        Board.objects.for_user(request.user).select_related("organization").filter(pk=pk).first()
    )
    if board is None:
        raise Http404
    editable = board.organization_id in organization_ids(request.user, Action.CHANGE)
    shown = layout.readable(board.layout or {}, board.organization_id)
    config = {
        "board": board.pk,
        "organization": board.organization_id,
        "name": board.name,
        "layout": shown,
        "editable": editable,
        "api": reverse("board-detail", args=[board.pk]),
        "shares": reverse("boardshare-list"),
        "csrf": get_token(request) if editable else "",
        "ranges": list(layout.RANGES),
        "refresh": layout.REFRESH,
        **_catalogue(board.organization_id),
    }
    shares = BoardShare.objects.filter(board=board).select_related("created_by") if editable else []
    return render(
        request,
        "boards/board.html",
        {
            "board": board,
            "config": config,
            "editable": editable,
            "shares": shares,
            "modes": ShareMode.choices,
            "map": _map(),
        },
    )


def shared_page(request, token: str):
    share = BoardShare.objects.by_token(token)
    if share is None:
        raise Http404
    board = share.board
    config = {
        "name": board.name,
        "layout": layout.readable(board.layout or {}, board.organization_id),
        "shared": reverse("shared-board", args=[token]),
        "public": share.mode == ShareMode.PUBLIC,
        "ranges": list(layout.RANGES),
        "refresh": layout.REFRESH,
        "nodes": [],
        "quantities": _catalogue(board.organization_id)["quantities"],
    }
    response = render(
        request,
        "boards/shared.html",
        {"board": board, "share": share, "config": config, "map": _map()},
    )
    response["Referrer-Policy"] = "no-referrer"  # the token is in the address
    response["X-Robots-Tag"] = "noindex"
    return response
