"""InfluxDB's write API, so Telegraf and InfluxDB client libraries write here unchanged.

``POST /api/v2/write?org=…&bucket=…&precision=ns|us|ms|s`` (InfluxDB 2) and
``POST /write?db=…&precision=…`` (InfluxDB 1 and 2's v1 compatibility) take line
protocol (``decoders/influx_line.py``: which tag names the node, how fields become
quantities) through the same pipeline as every other entry point. They answer as
InfluxDB does: 204 when everything was stored; otherwise ``{"code", "message"}``
with 400 (a line was refused: the good lines are stored, the first refused line is
named, every refused line is a dead letter), 401, 403, 404 (no bucket), 413, 429.
"""

import base64
import binascii
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import authentication, exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.api.auth import Device, device_of
from sensorgrid.ingest.api.views import IsDevice, PerCredentialThrottle
from sensorgrid.ingest.envelope import Envelope

DECODER = "influx_line"
#: InfluxDB's error codes by status.
CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    415: "unsupported media type",
    429: "too many requests",
}
#: v1 spellings of the precisions (InfluxDB 1 also takes n, u, m, h).
V1_PRECISIONS = {"n": "ns", "ns": "ns", "u": "us", "us": "us", "µ": "us", "ms": "ms", "s": "s"}
V1_PRECISIONS |= {"m": "m", "h": "h"}
V2_PRECISIONS = ("ns", "us", "ms", "s")
_MAX_BUCKET = 100  # characters of the bucket kept in the dead letters' topic


class InfluxCredentialAuthentication(authentication.BaseAuthentication):
    """The ingest credential as InfluxDB clients send a token: ``Authorization: Token``
    (or ``Bearer``), HTTP Basic with the credential as password, or v1's ``?p=``."""

    def authenticate(self, request: Request) -> tuple[Device, str] | None:
        credential = _credential(request)
        if credential is None:
            return None
        return device_of(credential), credential

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="SensorGrid"'


def _credential(request: Request) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if header:
        scheme = header[0].lower()
        if len(header) != 2 or scheme not in (b"token", b"bearer", b"basic"):
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: Token <credential>' (a node credential or ingest key)."
            )
        try:
            if scheme == b"basic":  # the user name is not used: the credential says who
                return _decode_base64(header[1]).partition(":")[2]
            return header[1].decode()
        except (UnicodeDecodeError, ValueError):
            raise exceptions.AuthenticationFailed("Invalid credential.") from None
    password = request.query_params.get("p")
    return password or None


def _decode_base64(value: bytes) -> str:
    try:
        return base64.b64decode(value, validate=True).decode()
    except binascii.Error:
        raise ValueError("not base64") from None


ERROR = inline_serializer(
    "InfluxError",
    {
        "code": serializers.CharField(help_text="InfluxDB's error code, e.g. `invalid`."),
        "message": serializers.CharField(help_text="What went wrong; `line N: …` for a line."),
        "line": serializers.IntegerField(
            required=False, help_text="The first refused line (1 is the body's first line)."
        ),
    },
)
RESPONSES = {
    204: OpenApiResponse(description="Every line stored."),
    **{
        status: OpenApiResponse(ERROR, description=description)
        for status, description in {
            400: "A line was refused: the good lines are stored; the refused ones are dead "
            "letters; the message names the first one. Also an unknown precision, a body "
            "without lines or a broken gzip body.",
            401: "No, or an unknown, credential.",
            403: "A node credential named another node: nothing of the body is stored.",
            404: "No bucket (v1: db) named.",
            413: "The body, or the gzip body unpacked, is above SENSORGRID_MAX_BODY_BYTES.",
            415: "A Content-Encoding other than gzip or identity.",
            429: "More requests than SENSORGRID_INGEST_RATE for this credential.",
        }.items()
    },
}
#: /write is outside /api/: a NUL in its query string is refused before the view, in
#: plain text (api/hygiene.py), and the schema says so.
V1_RESPONSES: dict[int | tuple[int, str], OpenApiResponse] = {
    204: RESPONSES[204],
    **{(status, "application/json"): r for status, r in RESPONSES.items() if status != 204},
    (400, "text/plain"): OpenApiResponse(
        OpenApiTypes.STR, description="A null character in the query string."
    ),
}
DESCRIPTION = (
    "InfluxDB line protocol, as Telegraf (`outputs.influxdb_v2`) and the InfluxDB client "
    "libraries send it; `Content-Encoding: gzip` is unpacked. Authenticate with a node "
    "credential or an organization ingest key as the token: `Authorization: Token "
    "<credential>`. Each line is one node's values at one time: the tag `device` (or "
    "`device_id`, `node`, `host`) names the node, each field is a quantity (a field "
    "`value` takes the measurement's name; the bucket `measurement_field` makes them "
    "`<measurement>_<field>`), strings are refused per field. docs/devices.md has the "
    "rule and a Telegraf example."
)


class _InfluxWrite(APIView):
    authentication_classes = [InfluxCredentialAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [PerCredentialThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes: list[Any] = []  # the body is read as it is
    #: the query parameter that names the bucket, and the precisions taken
    bucket_parameter = "bucket"
    precisions: dict[str, str] = {}

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return _influx_errors

    def post(self, request: Request) -> Response:
        bucket = request.query_params.get(self.bucket_parameter, "")
        if not bucket:
            what = "bucket" if self.bucket_parameter == "bucket" else "database"
            return _error(404, f"{what} not found: name one in ?{self.bucket_parameter}=")
        given = request.query_params.get("precision") or "ns"
        precision = self.precisions.get(given)
        if precision is None:
            valid = ", ".join(dict.fromkeys(self.precisions))
            return _error(400, f"invalid precision {given!r}; valid precisions are {valid}")
        sender = cast(Device, request.user)
        authority = sender.authority
        query = {"bucket": bucket[:_MAX_BUCKET], "precision": precision}
        if authority.node_id is not None:  # lines without a device tag are this node's
            # Looked up with the credential (one query per credential and TTL, not per
            # request); renaming the node clears this process's credentials at once.
            query["device"] = sender.device_id
        envelope = Envelope(
            source="http",
            # What the decoder needs besides the body, kept with every dead letter so
            # a replay reads the lines alike. Never the client's query: it may hold ?p=.
            topic=f"{request.path}?{urlencode(query)}",
            payload=request.body,  # RequestDataTooBig above the limit → 413
            received_at=timezone.now(),
            content_type="text/plain",
            authority=authority,
        )
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding == "gzip":
            try:
                envelope = replace(envelope, payload=_gunzip(envelope.payload))
            except zlib.error as exc:
                pipeline.keep(envelope, DECODER, "malformed", f"broken gzip body: {exc}")
                return _error(400, f"broken gzip body: {exc}")
        elif encoding != "identity":
            pipeline.keep(envelope, DECODER, "malformed", f"Content-Encoding {encoding!r}")
            return _error(415, f"Content-Encoding {encoding!r}: send gzip or identity")
        outcome = pipeline.ingest(envelope, DECODER)
        if outcome.refused is not None:
            status = 403 if outcome.refused.reason == "forbidden-device" else 400
            return _error(status, outcome.refused.detail)
        if outcome.rejected:
            # The decoder's refusals come before the pipeline's: the first by line.
            first = min(outcome.rejected, key=lambda r: r.index)
            refused_lines = len({r.index for r in outcome.rejected})
            message = (
                f"partial write: line {first.index + 1}: {first.reason}: {first.detail} "
                f"({refused_lines} line(s) with a refusal, kept as dead letters; everything "
                "else is stored)"
            )
            return _error(400, message, line=first.index + 1)
        return Response(status=204)


class InfluxWriteV2View(_InfluxWrite):
    """``POST /api/v2/write``: InfluxDB 2's write endpoint."""

    precisions = {p: p for p in V2_PRECISIONS}

    @extend_schema(
        operation_id="influxdb_v2_write",
        summary="Write line protocol (InfluxDB 2 API, Telegraf outputs.influxdb_v2)",
        description=DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "org",
                OpenApiTypes.STR,
                description="Accepted and not used: the "
                "credential's organization is the one written to.",
            ),
            OpenApiParameter(
                "bucket",
                OpenApiTypes.STR,
                required=True,
                description="Required, as "
                "in InfluxDB. `measurement_field` names quantities "
                "`<measurement>_<field>`; any other name: by field.",
            ),
            OpenApiParameter(
                "precision",
                OpenApiTypes.STR,
                enum=list(V2_PRECISIONS),
                description="Unit of the lines' timestamps (default ns).",
            ),
        ],
        request={"text/plain": OpenApiTypes.STR},
        responses=RESPONSES,
        tags=["ingest"],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class InfluxWriteV1View(_InfluxWrite):
    """``POST /write``: InfluxDB 1's write endpoint (and InfluxDB 2's v1 compatibility)."""

    bucket_parameter = "db"
    precisions = V1_PRECISIONS

    @extend_schema(
        operation_id="influxdb_v1_write",
        summary="Write line protocol (InfluxDB 1 API, Telegraf outputs.influxdb)",
        description=DESCRIPTION + " The credential may also come as HTTP Basic password or `?p=`.",
        parameters=[
            OpenApiParameter(
                "db",
                OpenApiTypes.STR,
                required=True,
                description="Required, as in "
                "InfluxDB; plays the bucket's part (see `/api/v2/write`).",
            ),
            OpenApiParameter(
                "precision",
                OpenApiTypes.STR,
                enum=list(V1_PRECISIONS),
                description="Unit of the lines' timestamps (default ns).",
            ),
            OpenApiParameter("u", OpenApiTypes.STR, description="User name: not used."),
            OpenApiParameter(
                "p",
                OpenApiTypes.STR,
                description="The credential, if no Authorization header is sent.",
            ),
        ],
        request={"text/plain": OpenApiTypes.STR},
        responses=V1_RESPONSES,
        tags=["ingest"],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


def _error(status: int, message: str, **extra: object) -> Response:
    return Response({"code": CODES[status], "message": message, **extra}, status=status)


def _influx_errors(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The project's answers (413, 401, 429 with Retry-After …) in InfluxDB's shape."""
    response = cast(Callable[..., Response | None], api_settings.EXCEPTION_HANDLER)(exc, context)
    if response is not None:
        data = response.data
        detail = data.get("detail", data) if isinstance(data, dict) else data
        response.data = {
            "code": CODES.get(response.status_code, "internal error"),
            "message": str(detail),
        }
    return response


def _gunzip(body: bytes) -> bytes:
    """The unpacked body, held to the same limit as a body that came unpacked."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    parts, size = [], 0
    while body:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        part = inflater.decompress(body, limit - size + 1)
        size += len(part)
        if size > limit:
            raise RequestDataTooBig(f"the unpacked body is above {limit} bytes")
        if not inflater.eof:
            raise zlib.error("the gzip stream is truncated")
        parts.append(part)
        body = inflater.unused_data  # gzip allows several members one after the other
    return b"".join(parts)


class InfluxTokenScheme(OpenApiAuthenticationExtension):
    target_class = InfluxCredentialAuthentication
    name = "InfluxToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <credential>`: a node's ingest credential or an "
            "organization's ingest key, as InfluxDB clients send their API token.",
        }
