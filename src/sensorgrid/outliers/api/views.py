"""Scores over time, model versions, reconstructions and acknowledgement (docs/images.md).

Scores, reconstructions and model versions are for members of the node's organization
only, also for pictures a public installation publishes (the live ``outlier`` frames
are too): a verdict says what the organization's model thinks, not what the camera saw.
Anybody else gets the 404 of a missing node. Acknowledging is for owners, as alerts.
"""

from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sensorgrid.api.schema import VALIDATION_ERROR, ErrorSerializer
from sensorgrid.images import storage
from sensorgrid.images.api.views import INSTANT, SANDBOX
from sensorgrid.inventory.models import Node
from sensorgrid.outliers import service
from sensorgrid.outliers.api.hooks import FALSE, TRUE
from sensorgrid.outliers.models import OutlierModel, OutlierScore
from sensorgrid.storable import MAX_ID
from sensorgrid.telemetry.api.serializers import instant
from sensorgrid.tenancy.scoping import Action


class ScoreSerializer(serializers.ModelSerializer):
    model_version = serializers.IntegerField(source="model.version", read_only=True)
    reconstruction_url = serializers.SerializerMethodField()

    class Meta:
        model = OutlierScore
        fields = [
            "id", "image", "name", "ts", "score", "threshold", "is_outlier",
            "model_version", "scored_at", "acknowledged_at", "reconstruction_url",
        ]  # fmt: skip

    def get_reconstruction_url(self, score: OutlierScore) -> str:
        from django.urls import reverse

        return reverse("outlier-reconstruction", args=[score.pk])


class ModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutlierModel
        fields = [
            "id", "name", "version", "kind", "created_at", "trained_from", "trained_to",
            "first", "pictures", "first_ts", "last_ts", "size", "quantile", "margin",
            "threshold", "training_error_mean", "training_error_max",
        ]  # fmt: skip


class NodeScoresView(generics.ListAPIView):
    serializer_class = ScoreSerializer
    queryset = OutlierScore.objects.none()
    filter_backends = []

    @extend_schema(
        summary="Outlier scores of a node's pictures",
        description="The scores over time (newest first) in [from, to), optionally of one "
        "image name, only outliers (`outlier=true`) and of one model version (default: "
        "every version; retraining keeps the older versions' scores). Members of the "
        "node's organization only. Paged. See docs/images.md.",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The node's id."),
            OpenApiParameter("name", str, description="Only pictures of this name."),
            OpenApiParameter("from", str, description=f"Start, inclusive: {INSTANT}."),
            OpenApiParameter("to", str, description=f"End, exclusive: {INSTANT}."),
            OpenApiParameter("outlier", bool, description="true: only outliers; false: none."),
            OpenApiParameter("version", int, description="Only scores of this model version."),
        ],
        responses={200: ScoreSerializer(many=True), 400: VALIDATION_ERROR, 404: ErrorSerializer},
        tags=["images"],
    )
    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        node = member_node(self.request, self.kwargs["pk"])
        scores = OutlierScore.objects.filter(node=node).select_related("model")
        query = self.request.query_params
        errors: dict[str, str] = {}
        start, end = instant(query, "from", errors), instant(query, "to", errors)
        if start is not None and end is not None and start >= end:
            errors["from"] = "Must be before to (the range is [from, to))."
        if start is not None:
            scores = scores.filter(ts__gte=start)
        if end is not None:
            scores = scores.filter(ts__lt=end)
        if name := query.get("name"):
            scores = scores.filter(name=name)
        if raw := query.get("outlier", "").strip().lower():
            if raw not in TRUE + FALSE:
                errors["outlier"] = "Must be true or false."
            else:
                scores = scores.filter(is_outlier=raw in TRUE)
        if raw := query.get("version", ""):
            if not raw.isdigit() or int(raw) > MAX_ID:
                errors["version"] = "Must be a version number."
            else:
                scores = scores.filter(model__version=int(raw))
        if errors:
            raise ValidationError({key: [message] for key, message in errors.items()})
        return scores.order_by("-ts", "-model__version", "-pk")


def member_node(request: Request, pk: int, action: Action = Action.VIEW) -> Node:
    if pk > MAX_ID:
        raise NotFound()
    node = Node.objects.for_user(request.user, Action.VIEW).filter(pk=pk).first()
    if node is None:
        raise NotFound()
    if (
        action is Action.CHANGE
        and not Node.objects.for_user(request.user, action).filter(pk=pk).exists()
    ):
        raise PermissionDenied("Only owners of the node's organization may do this.")
    return node


class NodeModelsView(APIView):
    @extend_schema(
        summary="Outlier model versions of a node",
        description="Every trained version, newest first per image name (members only). "
        "Train with `sensorgrid images train NODE NAME --from --to`.",
        responses={200: ModelSerializer(many=True), 404: ErrorSerializer},
        tags=["images"],
    )
    def get(self, request: Request, pk: int) -> Response:
        node = member_node(request, pk)
        models = OutlierModel.objects.filter(node=node).order_by("name", "-version")
        return Response(ModelSerializer(models, many=True).data)


def visible_score(request: Request, pk: int) -> OutlierScore:
    """Score ``pk`` if the user is a member of its node's organization, else 404."""
    if pk > MAX_ID:
        raise NotFound()
    score = (
        OutlierScore.objects.for_user(request.user, Action.VIEW)
        .select_related("model", "image")
        .filter(pk=pk)
        .first()
    )
    if score is None:
        raise NotFound()
    return score


class ReconstructionView(APIView):
    @extend_schema(
        summary="A score's reconstruction",
        description="What the model made of the picture: a grayscale PNG (the model's "
        "32×32 input size, shown larger). Members of the node's organization only.",
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description="image/png"),
            404: ErrorSerializer,
        },
        tags=["images"],
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        score = visible_score(request, pk)
        try:
            handle = storage.store().open(score.reconstruction_key, "rb")
        except FileNotFoundError:
            raise NotFound("The reconstruction is missing from the store.") from None
        response = FileResponse(handle, content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = SANDBOX
        return response


class AcknowledgeView(APIView):
    @extend_schema(
        summary="Acknowledge an outlier",
        description="Records that someone looked at this scored picture (once: later "
        "calls keep the first), and acknowledges the open `image_outlier` alert of the "
        "node that this outlier belongs to. Owners of the node's organization.",
        request=None,
        responses={200: ScoreSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        tags=["images"],
    )
    def post(self, request: Request, pk: int) -> Response:
        score = visible_score(request, pk)
        member_node(request, score.node_id, Action.CHANGE)
        service.acknowledge(score, request.user, timezone.now())
        return Response(ScoreSerializer(score).data)
