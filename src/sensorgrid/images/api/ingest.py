"""``POST /api/v1/ingest/images/``: a picture over HTTP with the node's credential.

The body is the picture's bytes (any Content-Type: the bytes decide), the JSON envelope
of MQTT (``{"ts": …, "data": "<base64>"}``), or ``multipart/form-data`` with the picture
in a file field (``file`` or the first one) and optional ``name``/``ts`` fields.
``?name=`` names the picture (default ``camera``), ``?ts=`` says when it was taken
(default: when received). The body is read in chunks up to SENSORGRID_IMAGE_MAX_BYTES;
a bigger one is refused without being read (413).
"""

from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sensorgrid.images.ingest import KEY, StorageUnavailable, store_many
from sensorgrid.ingest.api.auth import Device, IngestCredentialAuthentication
from sensorgrid.ingest.api.views import REFUSAL, IsDevice, PerCredentialThrottle
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.telemetry.models import Reason

STATUS: dict[str, int] = {
    Reason.FORBIDDEN_DEVICE: 403,
    Reason.TOO_LARGE: 413,
    Reason.UNSUPPORTED_IMAGE: 415,
}
CHUNK = 64 * 1024


class ImageIngestView(APIView):
    authentication_classes = [IngestCredentialAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [PerCredentialThrottle]
    parser_classes: list = []  # the body is read here, in chunks, never by a parser

    @extend_schema(
        operation_id="ingest_image",
        summary="Send a picture",
        description="A JPEG, PNG or WebP picture from a camera node: the raw bytes as the "
        'body, the JSON envelope `{"ts": …, "data": "<base64>"}`, or multipart '
        "form data with the picture in a file field. The type is read from the bytes; "
        "EXIF GPS data is removed before storing. Answers after the picture is stored "
        "(`accepted` 1, or `duplicates` 1 for the same bytes, node, name and time "
        "again). A refused picture is kept as a dead letter (its first bytes). "
        "Authenticate with the node's ingest credential: `Authorization: Bearer "
        "<credential>`. See docs/images.md.",
        parameters=[
            OpenApiParameter("name", str, description="What it shows (default `camera`)."),
            OpenApiParameter(
                "ts", str, description="When it was taken: ISO 8601 or epoch (default: now)."
            ),
        ],
        request={
            "image/jpeg": OpenApiTypes.BINARY,
            "image/png": OpenApiTypes.BINARY,
            "image/webp": OpenApiTypes.BINARY,
            "multipart/form-data": OpenApiTypes.OBJECT,
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Stored (or already)."),
            400: REFUSAL,
            401: REFUSAL,
            403: REFUSAL,
            413: REFUSAL,
            415: REFUSAL,
            429: REFUSAL,
            503: REFUSAL,
        },
        tags=["ingest"],
    )
    def post(self, request: Request) -> Response:
        django_request = request._request
        query = {
            key: value
            for key in ("name", "ts")
            if (value := request.query_params.get(key) or "").strip()
        }
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        limit = settings.SENSORGRID_IMAGE_MAX_BYTES
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
        payload = b""
        too_big = declared > limit + (64 * 1024 if content_type.startswith("multipart/") else 0)
        if not too_big and content_type == "multipart/form-data":
            files = django_request.FILES
            upload = files.get("file") or next((files.get(key) for key in files), None)
            for key in ("name", "ts"):
                if key not in query and (value := django_request.POST.get(key, "").strip()):
                    query[key] = value
            if upload is None:
                return self._refused(
                    self._envelope(request, b"", query, content_type),
                    Reason.MALFORMED,
                    "multipart form data without a file field",
                )
            too_big = upload.size is not None and upload.size > limit
            if not too_big:
                payload = upload.read(limit + 1)
        elif not too_big:
            payload = _read(django_request, limit + 1)
        if too_big or len(payload) > limit:
            size = declared if too_big else len(payload)
            return self._refused(
                self._envelope(request, payload[:4096], query, content_type),
                Reason.TOO_LARGE,
                f"{size} bytes; the limit is {limit} (SENSORGRID_IMAGE_MAX_BYTES)",
            )
        envelope = self._envelope(request, payload, query, content_type)
        try:
            batch = store_many([envelope])
        except StorageUnavailable as exc:
            response = Response(
                {"detail": f"{exc}; send it again later."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
            response["Retry-After"] = "30"
            return response
        outcome = batch.outcomes[0]
        if outcome.refused is not None:
            return Response(
                {"detail": outcome.refused.detail, "reason": outcome.refused.reason},
                status=STATUS.get(outcome.refused.reason, 400),
            )
        return Response({"accepted": outcome.accepted, "duplicates": outcome.duplicates})

    @staticmethod
    def _envelope(request: Request, payload: bytes, query: dict, content_type: str) -> Envelope:
        # The name and time ride in the topic (the endpoint with its query), so a dead
        # letter replays with them (sensorgrid.images.ingest.name_of reads it back).
        topic = request.path + (f"?{urlencode(query)}" if query else "")
        return Envelope(
            source="http",
            topic=topic,
            payload=payload,
            received_at=timezone.now(),
            content_type=content_type,
            authority=cast(Device, request.user).authority,
        )

    def _refused(self, envelope: Envelope, reason: str, detail: str) -> Response:
        from sensorgrid.ingest import pipeline

        pipeline.keep(envelope, KEY, reason, detail)
        return Response({"detail": detail, "reason": reason}, status=STATUS.get(reason, 400))


def _read(django_request, most: int) -> bytes:  # type: ignore[no-untyped-def]
    """Up to ``most`` bytes of the body, in chunks (the rest is never read)."""
    chunks, size = [], 0
    while size < most:
        chunk = django_request.read(min(CHUNK, most - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
