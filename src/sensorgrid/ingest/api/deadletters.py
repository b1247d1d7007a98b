"""``/api/v1/dead-letters/``: what could not be stored, why, and a way to retry it.

The letters are telemetry rows; their API is ingest's because replay runs the pipeline.
"""

import base64

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from sensorgrid.api.filters import UTCDateTimeFilter, id_filter
from sensorgrid.ingest.replay import replay
from sensorgrid.telemetry.models import DeadLetter, Reason, Source
from sensorgrid.tenancy.scoping import Action
from sensorgrid.tenancy.viewsets import OWNER_ONLY


class DeadLetterSerializer(serializers.ModelSerializer[DeadLetter]):
    """A refusal; ``count`` identical ones (same sender, reason, device, detail and
    payload) share it, the first at ``received_at``, the last at ``last_received_at``."""

    payload = serializers.SerializerMethodField(
        help_text="The payload as UTF-8 text, or base64 when it is binary (see encoding)."
    )
    encoding = serializers.SerializerMethodField(help_text="utf-8 or base64")

    class Meta:
        model = DeadLetter
        fields = [
            "id",
            "received_at",
            "source",
            "topic",
            "decoder",
            "content_type",
            "reason",
            "detail",
            "device_id",
            "organization",
            "node",
            "credential",
            "credential_id",
            "count",
            "last_received_at",
            "payload",
            "encoding",
            "replay_count",
            "replayed_at",
            "resolved_at",
        ]
        read_only_fields = fields

    def get_payload(self, letter: DeadLetter) -> str:
        return _shown(letter)[0]

    def get_encoding(self, letter: DeadLetter) -> str:
        return _shown(letter)[1]


def _shown(letter: DeadLetter) -> tuple[str, str]:
    """The payload as text and its encoding: UTF-8 when it is, base64 otherwise."""
    raw = bytes(letter.payload)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), "base64"


class DeadLetterFilter(filters.FilterSet):
    reason = filters.ChoiceFilter(choices=Reason.choices)
    source = filters.ChoiceFilter(choices=Source.choices)
    node = id_filter("node")
    organization = id_filter("organization")
    since = UTCDateTimeFilter(field_name="received_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="received_at", lookup_expr="lt")
    resolved = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = DeadLetter
        fields = ["reason", "source", "node", "organization", "device_id", "since", "until"]


REPLAYED = inline_serializer(
    "Replayed",
    {
        "stored": serializers.BooleanField(help_text="Every value of the letter is stored now."),
        "accepted": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "dead_letter": DeadLetterSerializer(),
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="List dead letters",
        description="Members see their organizations' letters; superusers (operators) see all.",
    )
)
class DeadLetterViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[DeadLetter],
):
    serializer_class = DeadLetterSerializer
    filterset_class = DeadLetterFilter
    search_fields = ["device_id", "topic", "detail"]
    ordering_fields = ["received_at", "last_received_at", "count", "id"]

    def get_queryset(self) -> QuerySet[DeadLetter]:
        return DeadLetter.objects.for_user(self.request.user, Action.VIEW)

    @extend_schema(
        summary="Replay a dead letter",
        description=(
            "Runs the payload through the pipeline again, e.g. after registering the device. "
            "Owners of the organization (and superusers) may replay."
        ),
        request=None,
        responses=REPLAYED,
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        letter = self.get_object()
        if not DeadLetter.objects.can(request.user, Action.CHANGE, letter):
            raise PermissionDenied(OWNER_ONLY)
        result = replay(letter)
        return Response(
            {
                "stored": result.stored,
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "dead_letter": DeadLetterSerializer(result.letter).data,
            }
        )
