"""Query parameters and response shapes of the time-series endpoints.

The response serializers document the shape for the OpenAPI schema; the views build
the (possibly 10,000-point) bodies directly, since a serializer per point would cost
more than the query.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.http import QueryDict
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from sensorgrid import timestamps
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry.timeseries import BUCKETS, Agg

DEFAULT_RANGE = timedelta(hours=24)
# Wide enough for any sample (they start in 2000), narrow enough that bucket
# arithmetic near datetime.max cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Params:
    quantities: Sequence[Quantity]  # empty: every quantity the node has reported
    start: datetime
    end: datetime
    bucket: str
    agg: Agg | None  # None for raw samples


def parse_params(query: QueryDict) -> Params:
    """Validate the query string; a 400 names each offending parameter."""
    errors: dict[str, str] = {}
    bucket = query.get("bucket", "raw")
    if bucket not in BUCKETS:
        errors["bucket"] = f"Unknown bucket {bucket[:20]!r}; use one of {', '.join(BUCKETS)}."
    agg_name = query.get("agg", Agg.AVG.value)
    if agg_name not in {a.value for a in Agg}:
        errors["agg"] = f"Unknown aggregate {agg_name[:20]!r}; use one of {', '.join(Agg)}."
    end = instant(query, "to", errors) or timezone.now()
    start = instant(query, "from", errors) or end - DEFAULT_RANGE
    if "from" not in errors and "to" not in errors and start >= end:
        errors["from"] = "Must be before to (the range is [from, to))."
    quantities = _quantities(query, errors)
    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    return Params(quantities, start, end, bucket, None if bucket == "raw" else Agg(agg_name))


def instant(query: QueryDict, name: str, errors: dict[str, str]) -> datetime | None:
    """The instant in parameter ``name`` (None if absent); a bad one goes to ``errors``."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = timestamps.parse(raw)
    except ValueError as exc:
        # A literal "+" in a query string arrives as a space: say how to send an offset.
        errors[name] = f"{exc}; use ISO 8601 (encode + as %2B) or epoch seconds."
        return None
    if not EARLIEST <= value < LATEST:
        errors[name] = "Must be between 1970-01-01 and 3000-01-01."
        return None
    return value


def _quantities(query: QueryDict, errors: dict[str, str]) -> list[Quantity]:
    keys: list[str] = []
    for raw in query.getlist("quantity"):
        for key in raw.split(","):
            key = key.strip()
            if key and key not in keys:
                keys.append(key)
    if not keys:
        return []
    found = {q.key: q for q in Quantity.objects.filter(key__in=keys)}
    unknown = [key for key in keys if key not in found]
    if unknown:
        names = ", ".join(repr(key[:50]) for key in unknown[:5])
        errors["quantity"] = f"Unknown quantity {names}; see /api/v1/quantities/ for the keys."
        return []
    return [found[key] for key in keys]


class TimeseriesPointSerializer(serializers.Serializer):
    ts = serializers.DateTimeField(help_text="The sample's time, or the start of its bucket.")
    value = serializers.FloatField()


class TimeseriesSeriesSerializer(serializers.Serializer):
    quantity = serializers.CharField(help_text="Quantity key, e.g. co2.")
    unit = serializers.CharField(allow_blank=True)
    points = TimeseriesPointSerializer(many=True)


class TimeseriesSerializer(serializers.Serializer):
    node = serializers.IntegerField()
    bucket = serializers.ChoiceField(choices=list(BUCKETS))
    agg = serializers.ChoiceField(
        choices=[a.value for a in Agg], allow_null=True, help_text="null for raw samples."
    )
    start = serializers.DateTimeField(help_text="Start of the requested range (inclusive).")
    end = serializers.DateTimeField(help_text="End of the requested range (exclusive).")
    series = TimeseriesSeriesSerializer(
        many=True, help_text="One entry per quantity, in request order."
    )

    def get_fields(self):
        # "from" is a Python keyword, so the fields are declared as start/end.
        fields = super().get_fields()
        renamed = {"start": "from", "end": "to"}
        return {renamed.get(name, name): field for name, field in fields.items()}


class InstallationTimeseriesSerializer(TimeseriesSerializer):
    installation = serializers.IntegerField()


class LatestValueSerializer(serializers.Serializer):
    quantity = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    ts = serializers.DateTimeField()
    value = serializers.FloatField()


class NodeLatestSerializer(serializers.Serializer):
    node = serializers.IntegerField()
    values = LatestValueSerializer(many=True)
