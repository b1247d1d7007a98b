"""HTTP ingest: ``POST /api/v1/ingest/`` (SensorGrid JSON) and ``/api/v1/ingest/<decoder>/``.

The second also serves LoRaWAN network servers' webhooks (docs/lorawan.md):
``/api/v1/ingest/ttn/`` and ``/api/v1/ingest/chirpstack/?event=up``;
``/api/v1/ingest/ttn/devices/<device>/`` is The Things Stack's with the device in
the path (a webhook filtered to the uplink message names none in its body).
"""

from typing import cast

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from sensorgrid.ingest import decoders, pipeline
from sensorgrid.ingest.api.auth import Device, IngestCredentialAuthentication
from sensorgrid.ingest.envelope import Envelope

CONTENT_TYPES = ("application/json", "application/x-ndjson", "application/ndjson")
#: The webhook events besides ``up`` that decoders declare (for the API schema).
OTHER_EVENTS = tuple(
    dict.fromkeys(event for decoder in decoders.registered() for event in decoder.webhook_events)
)
#: Where the decoders of payloads other than JSON are posted (``Decoder.content``).
ENDPOINTS = {"line-protocol": "/api/v2/write (or /write, as InfluxDB 1.x)"}


def json_decoders() -> list[str]:
    """The decoders ``/api/v1/ingest/<decoder>/`` serves: it takes JSON content types only."""
    return [decoder.key for decoder in decoders.registered() if decoder.content == "json"]


class IsDevice(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, Device)


class PerCredentialThrottle(SimpleRateThrottle):
    """Limits each credential, not each address: many devices share one NAT."""

    scope = "ingest"

    def get_rate(self) -> str:
        return settings.SENSORGRID_INGEST_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str:
        # IsDevice runs first: the user is the Device that IngestCredentialAuthentication set.
        device = cast(Device, request.user)
        return self.cache_format % {"scope": self.scope, "ident": device.credential_digest}


RESULT = inline_serializer(
    "IngestResult",
    {
        "accepted": serializers.IntegerField(help_text="Values stored now."),
        "duplicates": serializers.IntegerField(help_text="Values that were already stored."),
        "rejected": serializers.ListField(
            child=inline_serializer(
                "IngestRejection",
                {
                    "index": serializers.IntegerField(help_text="Position of the message."),
                    "reason": serializers.CharField(),
                    "detail": serializers.CharField(),
                },
            ),
            help_text="Messages (or some of their values) kept as dead letters.",
        ),
    },
)
REFUSAL = OpenApiResponse(
    inline_serializer(
        "IngestRefusal",
        {
            "detail": serializers.CharField(),
            "reason": serializers.CharField(
                required=False, help_text="Dead-letter reason, when the payload was kept."
            ),
        },
    )
)


INGEST_RESPONSES = {
    200: RESULT,
    400: REFUSAL,
    401: REFUSAL,
    403: REFUSAL,
    404: REFUSAL,
    413: REFUSAL,
    415: REFUSAL,
    429: REFUSAL,
}
INGEST_DESCRIPTION = (
    "Body: one message, a list of messages, or NDJSON (docs/ingest.md). Answers after "
    "the values are committed. Authenticate with the node's ingest credential: "
    "`Authorization: Bearer <credential>`."
)


class IngestView(APIView):
    """The SensorGrid JSON format at ``/api/v1/ingest/``."""

    authentication_classes = [IngestCredentialAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [PerCredentialThrottle]

    @extend_schema(
        operation_id="ingest",
        summary="Send measurements (SensorGrid JSON)",
        description=INGEST_DESCRIPTION,
        request={"application/json": OpenApiTypes.OBJECT},
        responses=INGEST_RESPONSES,
        tags=["ingest"],
    )
    def post(self, request: Request) -> Response:
        return ingest(request, "json")


class DecoderIngestView(IngestView):
    """Any registered payload format at ``/api/v1/ingest/<decoder>/``."""

    @extend_schema(
        operation_id="ingest_with_decoder",
        summary="Send measurements in another payload format",
        description=INGEST_DESCRIPTION
        + " LoRaWAN network servers post here with an organization ingest key "
        "(docs/lorawan.md): `ttn` for The Things Stack webhooks, `chirpstack` (v4) and "
        "`chirpstack_v3` for ChirpStack's HTTP integration.",
        parameters=[
            OpenApiParameter(
                "decoder",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=sorted(json_decoders()),
                description="Payload format, e.g. `managair`, `ttn`, `chirpstack`.",
            ),
            OpenApiParameter(
                "event",
                OpenApiTypes.STR,
                description="ChirpStack's HTTP integration names the event here. Only `up` "
                f"(the default) carries measurements; the others ({', '.join(OTHER_EVENTS)}) "
                "are answered 204 and nothing is stored. Ignored by other decoders.",
            ),
        ],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            **INGEST_RESPONSES,
            204: OpenApiResponse(
                description="A ChirpStack event other than `up`: nothing to store."
            ),
        },
        tags=["ingest"],
    )
    def post(self, request: Request, decoder: str) -> Response:  # type: ignore[override]
        if decoder not in (served := json_decoders()):
            if decoder in decoders.available() and (
                endpoint := ENDPOINTS.get(decoders.get(decoder).content)
            ):
                raise exceptions.NotFound(f"Decoder {decoder!r} reads no JSON: post to {endpoint}.")
            raise exceptions.NotFound(
                f"No decoder {decoder!r}; known: {', '.join(sorted(served))}."
            )
        # A webhook that names the event in ``?event=``: only ``up`` carries values.
        events = decoders.get(decoder).webhook_events
        if events and request.query_params.get("event", "up") != "up":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return ingest(request, decoder)


class TtnDeviceIngestView(IngestView):
    """The Things Stack webhook whose path names the device (issue 18, item 1)."""

    @extend_schema(
        operation_id="ingest_ttn_device",
        summary="The Things Stack webhook with the device in the path",
        description=INGEST_DESCRIPTION
        + " For a webhook filtered to `up.uplink_message`, whose messages carry no "
        "`end_device_ids`: set the webhook's base URL to "
        "`…/api/v1/ingest/ttn/devices/{{.devID}}/` (or `{{.devEUI}}`) and the device is "
        "the one the path names (docs/lorawan.md). Messages that name their device "
        "themselves are read as at `/api/v1/ingest/ttn/`.",
        parameters=[
            OpenApiParameter(
                "device",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The device id or DevEUI The Things Stack put in the path.",
            )
        ],
        request={"application/json": OpenApiTypes.OBJECT},
        responses=INGEST_RESPONSES,
        tags=["ingest"],
    )
    def post(self, request: Request, device: str) -> Response:  # type: ignore[override]
        return ingest(request, "ttn", device)


def ingest(request: Request, decoder: str, device: str = "") -> Response:
    content_type = request.content_type.split(";")[0].strip().lower()
    envelope = Envelope(
        source=decoders.source_of(decoder, "http"),
        topic=request.path,
        payload=request.body,  # RequestDataTooBig above the limit → 413
        received_at=timezone.now(),
        content_type=content_type,
        authority=cast(Device, request.user).authority,
        device=device,
    )
    if content_type not in CONTENT_TYPES:
        pipeline.keep(envelope, decoder, "malformed", f"unsupported content type {content_type!r}")
        return Response(
            {
                "detail": f"Send {' or '.join(CONTENT_TYPES[:2])}, not {content_type!r}.",
                "reason": "malformed",
            },
            status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    outcome = pipeline.ingest(envelope, decoder)
    if outcome.refused is not None:
        code = 403 if outcome.refused.reason == "forbidden-device" else 400
        return Response(
            {"detail": outcome.refused.detail, "reason": outcome.refused.reason}, status=code
        )
    return Response(
        {
            "accepted": outcome.accepted,
            "duplicates": outcome.duplicates,
            "rejected": [
                {"index": r.index, "reason": r.reason, "detail": r.detail} for r in outcome.rejected
            ],
        }
    )
