"""Query parameters of the geo API: bbox, at, limit/offset and property filters.

Every bad parameter is a 400 naming the parameter; nothing here reaches a 500.
"""

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import CharField, F, Func, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from sensorgrid.api.filters import UTCDateTimeField

RESERVED = frozenset({"bbox", "at", "limit", "offset", "format"})
OPERATORS = ("eq", "ne", "in", "gte", "lte", "missing", "isnull")
# Letters of any script: German portals name properties Kapazität, Straße.
FIELD = re.compile(r"^[\w:.@-]{1,100}\Z")
MAX_FILTERS = 20
MAX_VALUES = 100


def bad(parameter: str, message: str) -> ValidationError:
    return ValidationError({parameter: [message]})


@dataclass(frozen=True)
class BBox:
    min_x: float
    min_y: float
    max_x: float
    max_y: float

    def q(self, prefix: str = "") -> Q:
        """Rows whose bounding box intersects this one (``prefix``: min_x… columns)."""
        p = prefix
        lat = Q(**{f"{p}max_y__gte": self.min_y, f"{p}min_y__lte": self.max_y})
        if self.min_x <= self.max_x:
            return lat & Q(**{f"{p}max_x__gte": self.min_x, f"{p}min_x__lte": self.max_x})
        # A box across the antimeridian (RFC 7946 §5.2): west of max_x or east of min_x.
        return lat & (Q(**{f"{p}max_x__gte": self.min_x}) | Q(**{f"{p}min_x__lte": self.max_x}))


def bbox(params) -> BBox | None:
    raw = params.get("bbox")
    if raw is None:
        return None
    parts = raw.split(",")
    message = "Use bbox=min_lon,min_lat,max_lon,max_lat in degrees, e.g. bbox=13.3,52.4,13.5,52.6."
    if len(parts) != 4:
        raise bad("bbox", message)
    try:
        min_x, min_y, max_x, max_y = (float(p) for p in parts)
    except ValueError:
        raise bad("bbox", message) from None
    if not all(math.isfinite(v) for v in (min_x, min_y, max_x, max_y)):
        raise bad("bbox", message)
    if not (-180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise bad("bbox", message + " Latitudes within ±90 (min ≤ max), longitudes within ±180.")
    return BBox(min_x, min_y, max_x, max_y)


def at(params) -> datetime | None:
    raw = params.get("at")
    if raw is None:
        return None
    if raw == "now":
        return timezone.now()
    try:
        value = UTCDateTimeField().clean(raw)
    except Exception:  # django.forms.ValidationError with varying messages
        value = None
    if value is None:
        raise bad("at", "Use an ISO 8601 time such as 2026-05-01T12:00:00Z, or now.")
    return value


def at_q(moment: datetime) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=moment)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=moment)
    )


def page(params) -> tuple[int, int]:
    default = settings.SENSORGRID_GEO_PAGE_SIZE
    maximum = settings.SENSORGRID_GEO_MAX_LIMIT
    limit = _integer(params, "limit", default, 1, maximum)
    offset = _integer(params, "offset", 0, 0, 10**9)
    return limit, offset


def _integer(params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise bad(name, f"Must be a whole number from {low} to {high}.")
    return value


def _typed(raw: str) -> list:
    """The JSON values a query-string value may stand for: "5" also means 5."""
    values: list = [raw]
    lowered = raw.lower()
    if lowered in ("true", "false"):
        values.append(lowered == "true")
    else:
        try:
            number = float(raw)
        except ValueError:
            number = None
        if number is not None and math.isfinite(number):
            values.append(int(number) if number.is_integer() and "." not in raw else number)
    return values


def _comparable(raw: str):
    """A number if ``raw`` is one (compared with numbers only), else text."""
    typed = _typed(raw)
    if len(typed) > 1 and not isinstance(typed[-1], bool):
        return typed[-1], NUMBER_TYPES
    return raw, TEXT_TYPES


# JSON value types as SQLite's JSON_TYPE and PostgreSQL's jsonb_typeof name them.
NUMBER_TYPES = ("integer", "real", "number")
TEXT_TYPES = ("text", "string")


class JSONValueType(Func):
    """The JSON type of ``properties[key]``, so that 7 and "7" never compare with each other.

    Without it SQLite orders every number below every text and PostgreSQL the other
    way round, and ``height__gte=5`` would answer differently on the two.
    """

    output_field = CharField()

    def __init__(self, field: str, key: str) -> None:
        super().__init__(F(field))
        self.key = key

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"jsonb_typeof({column} -> %s)", (*params, self.key)
        # The path as Django's own key lookups write it (json.dumps, ASCII-escaped), so
        # both find "Kapazität" the same way.
        path = "$." + json.dumps(self.key)
        return f"JSON_TYPE({column}, %s)", (*params, path)


def properties(queryset: QuerySet, params) -> QuerySet:
    """``queryset`` narrowed by every property filter among ``params``."""
    filters = [(k, v) for k, vs in params.lists() if k not in RESERVED for v in vs]
    if len(filters) > MAX_FILTERS:
        raise bad("filters", f"At most {MAX_FILTERS} property filters per request.")
    for number, (name, raw) in enumerate(filters):
        field, _, operator = name.rpartition("__")
        if not field:
            field, operator = name, "eq"
        if operator not in OPERATORS:
            raise bad(
                name,
                f"Unknown operator {operator!r}; use field=value or field__"
                + ", field__".join(o for o in OPERATORS if o != "eq")
                + ".",
            )
        if not FIELD.match(field):
            raise bad(name, "Property names are letters, digits and _ : . @ - (at most 100).")
        if "\x00" in raw:
            raise bad(name, "Null characters are not allowed.")
        alias = f"_property{number}"
        queryset = queryset.alias(**{alias: KeyTransform(field, "properties")})
        has_key = Q(properties__has_key=field)
        if operator in ("missing", "isnull"):
            if raw.lower() not in ("true", "false"):
                raise bad(name, "Use true or false.")
            wanted = raw.lower() == "true"
            if operator == "missing":
                queryset = queryset.filter(~has_key if wanted else has_key)
            else:  # JSON null: present with the value null (missing is __missing)
                queryset = queryset.alias(**{f"{alias}_type": JSONValueType("properties", field)})
                is_null = Q(**{f"{alias}_type": "null"})
                queryset = queryset.filter(is_null if wanted else has_key & ~is_null)
        elif operator in ("eq", "ne", "in"):
            values = raw.split(",") if operator == "in" else [raw]
            if len(values) > MAX_VALUES:
                raise bad(name, f"At most {MAX_VALUES} values.")
            match = Q(pk__in=[])
            for value in values:
                for candidate in _typed(value):
                    match |= Q(**{alias: candidate})
            queryset = queryset.filter((~match & has_key) | ~has_key if operator == "ne" else match)
        else:
            value, types = _comparable(raw)
            queryset = queryset.alias(**{f"{alias}_type": JSONValueType("properties", field)})
            queryset = queryset.filter(
                **{f"{alias}_type__in": types, f"{alias}__{operator}": value}
            )
    return queryset
