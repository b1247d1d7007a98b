"""A node's pictures and their bytes (docs/images.md).

The walls are the time series': members of the node's organization see every picture;
everybody else (anonymous too) only those taken while a public installation published
the node, within its period. Anything else is a 404, exactly like a missing picture.
"""

from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sensorgrid.api.schema import VALIDATION_ERROR, ErrorSerializer
from sensorgrid.images import storage
from sensorgrid.images.api import hooks
from sensorgrid.images.api.serializers import ImageSerializer
from sensorgrid.images.models import Image
from sensorgrid.inventory.models import Installation, Node
from sensorgrid.storable import MAX_ID
from sensorgrid.telemetry.api.serializers import instant
from sensorgrid.tenancy.scoping import Action, sees_everything

INSTANT = "ISO 8601 (no offset = UTC; encode + as %2B) or epoch seconds"
#: Served pictures are data, never a document: no sniffing, no scripts, no same origin.
SANDBOX = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def member_of(user, node_pk: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``user`` belongs to the node's organization (or sees everything)."""
    return Node.objects.for_user(user, Action.VIEW).filter(pk=node_pk).exists()


def readable_images(user, node_pk: int):  # type: ignore[no-untyped-def]
    """The node's pictures ``user`` may see; 404 unless ``user`` may see some of the
    node's data at all (a member, or the node was ever publicly installed)."""
    if node_pk > MAX_ID:
        raise NotFound()
    member = member_of(user, node_pk)
    if not member and not Installation.objects.filter(node_id=node_pk, is_public=True).exists():
        raise NotFound()
    images = Image.objects.filter(node_id=node_pk)
    if member or sees_everything(user):
        return images
    return images.filter(Image.objects.published_q())


def _filter_parameters() -> list[OpenApiParameter]:
    return [
        OpenApiParameter(key, str, description=hook.description) for key, hook in hooks.filters()
    ]


class NodeImagesView(generics.ListAPIView):
    serializer_class = ImageSerializer
    queryset = Image.objects.none()  # the real one needs the node of the URL
    filter_backends = []  # from/to are parsed below ("from" is a Python keyword)

    @extend_schema(
        summary="Pictures of a node",
        description="The node's pictures, newest first, in [from, to), optionally of one "
        "name (the topic's image name, e.g. `door`). Members of the node's organization "
        "see all of them; everybody else only those taken during a public installation "
        "of the node. Paged; each picture links to its original and thumbnail. "
        "See docs/images.md.",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The node's id."),
            OpenApiParameter("name", str, description="Only pictures of this name."),
            OpenApiParameter("from", str, description=f"Start, inclusive: {INSTANT}."),
            OpenApiParameter("to", str, description=f"End, exclusive: {INSTANT}."),
            *_filter_parameters(),
        ],
        responses={200: ImageSerializer(many=True), 400: VALIDATION_ERROR, 404: ErrorSerializer},
        tags=["images"],
    )
    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        images = readable_images(self.request.user, self.kwargs["pk"])
        query = self.request.query_params
        errors: dict[str, str] = {}
        start, end = instant(query, "from", errors), instant(query, "to", errors)
        if start is not None and end is not None and start >= end:
            errors["from"] = "Must be before to (the range is [from, to))."
        if start is not None:
            images = images.filter(ts__gte=start)
        if end is not None:
            images = images.filter(ts__lt=end)
        if name := query.get("name"):
            images = images.filter(name=name)
        for key, hook in hooks.filters():
            raw = query.get(key)
            if raw is None or raw == "":
                continue
            if hook.members_only and not member_of(self.request.user, self.kwargs["pk"]):
                errors[key] = "Only members of the node's organization may filter on this."
                continue
            try:
                images = hook.apply(images, raw)
            except ValueError as exc:
                errors[key] = str(exc)
        if errors:
            raise ValidationError({key: [message] for key, message in errors.items()})
        return images.order_by("-ts", "-pk")


def visible_image(request: Request, pk: int) -> Image:
    """The picture ``pk`` if the user may see it, else 404."""
    if pk > MAX_ID:
        raise NotFound()
    image = Image.objects.readable_by(request.user).filter(pk=pk).first()
    if image is None:
        raise NotFound()
    return image


class ImageDetailView(APIView):
    @extend_schema(
        summary="A picture's metadata",
        description="Walls as for the node's pictures (404 for anything you may not see).",
        responses={200: ImageSerializer, 404: ErrorSerializer},
        tags=["images"],
    )
    def get(self, request: Request, pk: int) -> Response:
        image = visible_image(request, pk)
        [row] = ImageSerializer([image], many=True, context={"request": request}).data
        return Response(row)


class _DownloadView(APIView):
    kind = "original"

    def get(self, request: Request, pk: int) -> HttpResponse:
        image = visible_image(request, pk)
        if self.kind == "original":
            key, content_type = image.key, image.content_type
        else:
            key, content_type = image.thumbnail_key, image.thumbnail_content_type
        extension = storage.EXTENSIONS[content_type]
        filename = f"{image.node_id}-{image.name}-{image.ts:%Y%m%dT%H%M%S}.{extension}"
        etag = quote_etag(f"{image.sha256[:32]}-{self.kind[0]}")
        streamed = request.query_params.get("stream") in ("1", "true")
        if storage.is_s3() and _signed_seconds() > 0 and not streamed:
            response: HttpResponse = HttpResponseRedirect(
                storage.signed_url(key, content_type, filename)
            )
            response["Cache-Control"] = "private, no-store"  # the URL expires
            return response
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            try:
                handle = storage.store().open(key, "rb")
            except FileNotFoundError:
                raise NotFound("The picture's object is missing from the store.") from None
            response = FileResponse(handle, content_type=content_type)  # type: ignore[assignment]
            response["Content-Disposition"] = f'inline; filename="{filename}"'
            response["Last-Modified"] = http_date(image.received_at.timestamp())
        response["ETag"] = etag
        # Behind the same walls as the data: a shared cache must not keep it.
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = SANDBOX
        return response


def _signed_seconds() -> int:
    from django.conf import settings

    return settings.SENSORGRID_S3_SIGNED_URL_SECONDS


STREAM = OpenApiParameter(
    "stream",
    bool,
    description="Stream the bytes through SensorGrid also from an S3-compatible store, "
    "instead of redirecting (pages whose Content-Security-Policy allows images of "
    "this origin only, like the dashboard, ask so).",
)
_DOWNLOAD = {
    200: OpenApiResponse(OpenApiTypes.BINARY, description="The bytes (filesystem store)."),
    302: OpenApiResponse(description="A short-lived signed URL of the S3-compatible store."),
    304: OpenApiResponse(description="Not modified (If-None-Match)."),
    404: ErrorSerializer,
}


class ImageOriginalView(_DownloadView):
    kind = "original"

    @extend_schema(
        summary="Download a picture",
        description="The stored original (JPEG, PNG or WebP as sent, GPS metadata "
        "removed), with its Content-Type, an ETag and `X-Content-Type-Options: nosniff`. "
        "With an S3-compatible store: a redirect to a signed URL valid "
        "SENSORGRID_S3_SIGNED_URL_SECONDS. Walls as for the node's pictures.",
        parameters=[STREAM],
        responses=_DOWNLOAD,
        tags=["images"],
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return super().get(request, pk)


class ImageThumbnailView(_DownloadView):
    kind = "thumbnail"

    @extend_schema(
        summary="Download a picture's thumbnail",
        description="A WebP at most SENSORGRID_IMAGE_THUMBNAIL_PX pixels wide and high, "
        "turned upright. Served like the original.",
        parameters=[STREAM],
        responses=_DOWNLOAD,
        tags=["images"],
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return super().get(request, pk)
