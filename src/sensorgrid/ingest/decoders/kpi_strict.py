"""KPI messages held to the KPI Collection Project's own contract (decoder ``kpi_strict``).

The ``kpi`` decoder accepts a superset of the project's schema (docs/devices.md lists
every relaxation). A route that must take only what the project's own stack would
store chooses ``kpi_strict`` instead: an MQTT route (``SENSORGRID_MQTT_ROUTES`` or an
admin route) or ``POST /api/v1/ingest/kpi_strict/``. It has no built-in topic, so the
``kpi/…`` and ``/kpi/…`` topics stay relaxed unless a route says otherwise.

A document is checked, in this order:

1. against ``schemas/kpi-reference.schema.json``, the reference schema's constraints
   unchanged (draft 2019-09): ``clientId`` of exactly 10 characters, both times
   required, ``timestamp`` of 24 characters, KPI names of at most 40, ``unitId`` one of
   1–6, ``value`` a multiple of 0.01, no other top-level field. ``multipleOf`` is
   decided on the number as written in decimal: with float division (what the
   ``jsonschema`` library does) ``21.4 / 0.01`` is ``2139.9999999999995`` and 21.4
   would be refused, which is not what the schema's author meant;
2. against the relaxed schema, for what the decoder needs to read a value at all
   (a non-empty ``kpis`` whose entries are objects with name, unitId and value);
3. ``timestamp`` must be an ISO 8601 date-time with a UTC offset (``…T08:00:00.000Z``,
   as JavaScript's ``toISOString`` and Java's ``Instant`` write it), else
   ``bad-timestamp``, even though ``unixTimestamp`` is the time that is stored.

Values then become quantities exactly as in ``kpi`` (units 1–3 are temperatures).
"""

import json
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator, validators
from jsonschema.exceptions import ValidationError

from sensorgrid.ingest.decoders.base import Refused
from sensorgrid.ingest.decoders.kpi import KpiMessage, schema_problem
from sensorgrid.ingest.envelope import Envelope, Message, Raw

REFERENCE: dict[str, Any] = json.loads(
    resources.files("sensorgrid.ingest.decoders")
    .joinpath("schemas/kpi-reference.schema.json")
    .read_text(encoding="utf-8")
)

# ISO 8601 extended date-time with seconds and an offset (RFC 3339).
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", re.ASCII)


def _exact(number: float | int) -> Fraction:
    """The number as written: a float's shortest decimal form (``repr``), exactly."""
    return Fraction(Decimal(repr(number))) if isinstance(number, float) else Fraction(number)


def _multiple_of(
    validator: Any, divisor: float | int, instance: object, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    assert isinstance(instance, int | float)  # is_type("number") says so
    try:
        quotient = _exact(instance) / _exact(divisor)
    except (ValueError, OverflowError, InvalidOperation):  # NaN, infinity
        quotient = Fraction(1, 2)
    if quotient.denominator != 1:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor!r}")


# types-jsonschema declares no types for extend (jsonschema's documented way to do this).
_Reference = validators.extend(  # type: ignore[no-untyped-call]
    Draft201909Validator, {"multipleOf": _multiple_of}
)
_REFERENCE_VALIDATOR = _Reference(REFERENCE)


class StrictKpiMessage(KpiMessage):
    key = "kpi_strict"
    description = "KPI message checked against the KPI Collection Project's schema as it is"
    routes = ()  # chosen by a route, never built in: kpi/… and /kpi/… stay relaxed

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message:
        problem = schema_problem(document, _REFERENCE_VALIDATOR)
        if problem is not None:
            client = document.get("clientId") if isinstance(document, dict) else None
            raise Refused("malformed", problem, client[:200] if isinstance(client, str) else "")
        assert isinstance(document, dict)  # the reference schema says so
        message = super().message(index, document, raw, envelope)
        timestamp = document["timestamp"]
        if not _ISO.fullmatch(timestamp) or not _readable(timestamp):
            detail = f'"timestamp": {timestamp!r} is not an ISO 8601 date-time with an offset'
            raise Refused("bad-timestamp", detail, message.device)
        return message


def _readable(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:  # 2026-02-30…, 25:00…
        return False
    return True
