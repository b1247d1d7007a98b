"""/api/v1/boards/ (CRUD, export; import is a create with the exported file),
/api/v1/board-shares/ (share links: create, list, revoke) and /api/v1/shared-boards/<token>/
(what a share link shows, for anybody holding it). Owners change, inspectors read,
everybody else gets 404; a revoked or unknown token is a 404 too."""

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from sensorgrid.api.schema import VALIDATION_ERROR
from sensorgrid.boards import layout
from sensorgrid.boards.api.serializers import (
    BoardExportSerializer,
    BoardSerializer,
    BoardShareSerializer,
    NewBoardShareSerializer,
    export_document,
)
from sensorgrid.boards.models import Board, BoardShare
from sensorgrid.boards.shared import Reader
from sensorgrid.telemetry.api.serializers import instant
from sensorgrid.tenancy.viewsets import TenantModelViewSet


@extend_schema_view(
    list=extend_schema(summary="List dashboards", description="The boards of your organizations."),
    create=extend_schema(
        summary="Create or import a dashboard",
        description="Owners only. Import: POST an exported file with an `organization`.",
    ),
    retrieve=extend_schema(summary="A dashboard"),
    update=extend_schema(summary="Replace a dashboard (owners)"),
    partial_update=extend_schema(summary="Change a dashboard (owners)"),
    destroy=extend_schema(summary="Delete a dashboard and its share links (owners)"),
)
class BoardViewSet(TenantModelViewSet):
    model = Board
    serializer_class = BoardSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("created_by")

    def perform_create(self, serializer):
        serializer.validated_data["created_by"] = self.request.user
        super().perform_create(serializer)

    @extend_schema(
        summary="Export a dashboard",
        description="The board as a JSON file to download; POST it (with an `organization`) "
        "to /api/v1/boards/ to import it.",
        responses=BoardExportSerializer,
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        board = self.get_object()
        response = Response(export_document(board))
        response["Content-Disposition"] = f'attachment; filename="board-{board.slug}.json"'
        return response


@extend_schema_view(
    list=extend_schema(
        summary="List share links",
        parameters=[OpenApiParameter("board", int, description="Only this board's links.")],
    ),
    create=extend_schema(
        summary="Share a dashboard read-only",
        description="Owners only. The `token` and `url` are in this response only.",
        responses=NewBoardShareSerializer,
    ),
    retrieve=extend_schema(summary="A share link"),
    destroy=extend_schema(
        summary="Revoke a share link",
        description="The link answers 404 from now on; the row stays (revoked_at).",
    ),
)
class BoardShareViewSet(TenantModelViewSet):
    model = BoardShare
    serializer_class = BoardShareSerializer
    # a link is made and revoked, never edited
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        rows = super().get_queryset().select_related("created_by")
        board = self.request.query_params.get("board", "")
        return rows.filter(board_id=int(board)) if board.isdigit() and len(board) < 10 else rows

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        share = BoardShare(
            board=serializer.validated_data["board"],
            mode=serializer.validated_data["mode"],
            created_by=request.user,
        )
        token = share.issue()
        self.require_change_of({share.board.organization_id})
        with transaction.atomic():
            share.save()
            self.require_change_of(self.stored_organizations(share))
        share.token = token
        share.url = reverse("boards:shared", args=[token])
        return Response(NewBoardShareSerializer(share).data, status=201)

    def perform_destroy(self, instance):
        with transaction.atomic():
            self.require_change_of(self.stored_organizations(instance))
            instance.revoked_at = instance.revoked_at or timezone.now()
            instance.save(update_fields=["revoked_at"])


def shared_board(token: str) -> BoardShare:
    share = BoardShare.objects.by_token(token)
    if share is None:
        raise Http404()
    return share


class SharedBoardSerializer(serializers.Serializer):
    name = serializers.CharField()
    mode = serializers.CharField()
    layout = serializers.JSONField()


class SharedBoardView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A shared dashboard",
        description="What a share link shows: the board's name and panels. Anybody with the "
        "token; 404 once revoked.",
        responses=SharedBoardSerializer,
    )
    def get(self, request, token: str):
        share = shared_board(token)
        board = share.board
        return Response(
            {
                "name": board.name,
                "mode": share.mode,
                "layout": layout.readable(board.layout or {}, board.organization_id),
            }
        )


class SharedPanelView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="A shared dashboard's panel data",
        description="The data of one panel as the share may show it: public links only public "
        "installations' values in their periods (no alerts); organization links the board's "
        "organization's. Shapes: `series` (timeseries), `values` (stat, table), `features` "
        "(map), `alerts`.",
        parameters=[
            OpenApiParameter("from", str, description="ISO 8601 or epoch seconds."),
            OpenApiParameter("to", str, description="ISO 8601 or epoch seconds; default now."),
        ],
        # 400: a from/to that is no time (or holds a NUL): the offending parameter named
        responses={200: OpenApiTypes.OBJECT, 400: VALIDATION_ERROR},
    )
    def get(self, request, token: str, panel: str):
        share = shared_board(token)
        board = share.board
        shown = layout.readable(board.layout or {}, board.organization_id)
        found = next((p for p in shown.get("panels", ()) if p.get("id") == panel), None)
        if found is None:
            raise Http404()
        errors: dict[str, str] = {}
        start = instant(request.query_params, "from", errors)
        end = instant(request.query_params, "to", errors)
        if errors:
            raise serializers.ValidationError({k: [v] for k, v in errors.items()})
        return Response(Reader(share).panel(found, start, end))
