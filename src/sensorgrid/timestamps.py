"""Timestamp parsing: ISO 8601 strings or Unix epoch numbers, as devices send them and as
the API accepts them in query parameters. Imports nothing of ours, so any app may use it."""

import math
from datetime import UTC, datetime

# Epoch values above this are milliseconds (1e11 s is the year 5138).
_MILLISECONDS_FROM = 1e11


def parse(value: object) -> datetime:
    """Return an aware UTC datetime, or raise ValueError saying what is wrong.

    Accepts ISO 8601 (``2026-11-23T10:00:00Z``; no offset means UTC) and epoch
    seconds or milliseconds as numbers or digit strings.
    """
    if type(value) is str and value[4:5] == "-" and value[7:8] == "-":
        # The usual case, an extended ISO 8601 date-time: parsed at once. (An epoch
        # string has no "-" there; "20261123" would be read as a date otherwise.)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass  # spaces around it, or not ISO at all: the general path says which
        else:
            return _utc(parsed)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        value = float(value)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("timestamp is not finite")
        seconds = value / 1000 if abs(value) >= _MILLISECONDS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch {value!r} is out of range") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not ISO 8601 or an epoch number") from None
        return _utc(parsed)
    raise ValueError(f"a {type(value).__name__} is not a timestamp")


def _utc(parsed: datetime) -> datetime:
    """No offset means UTC; an offset is converted to UTC."""
    if parsed.tzinfo is UTC:  # the usual case: nothing to convert
        return parsed
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
