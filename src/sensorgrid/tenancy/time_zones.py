"""An organization's time zone: the IANA name its pages and charts show times in.

A school in Munich wants its lessons at 08:00, not at 07:00 UTC; a fleet spread over
zones keeps the platform's. Times are stored in UTC everywhere; only what a page
shows of one organization follows its zone (``time_zone_of``). The default is the
platform's, ``SENSORGRID_TIME_ZONE`` (Django's ``TIME_ZONE``).
"""

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError


@functools.cache
def known() -> frozenset[str]:
    """Every IANA zone name this system knows (the tzdata package or /usr/share/zoneinfo)."""
    return frozenset(zoneinfo.available_timezones())


def choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(known())]


def validate_time_zone(name: str) -> None:
    """Only names of the tz database: never a path (``../etc/passwd``), never a guess."""
    if name not in known():
        raise ValidationError(
            "%(name)r is no IANA time zone name; use one such as Europe/Berlin, "
            "America/New_York or UTC.",
            code="invalid",
            params={"name": name},
        )


def default_time_zone() -> str:
    """The platform's zone, for a new organization (the model field's default)."""
    return settings.TIME_ZONE


def time_zone_of(organization) -> str:
    """The zone to show ``organization``'s times in (the platform's if it has none)."""
    name = getattr(organization, "time_zone", "") or ""
    return name if name in known() else settings.TIME_ZONE
