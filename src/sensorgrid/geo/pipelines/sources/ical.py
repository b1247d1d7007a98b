"""iCalendar event feeds: events with a place become points valid for their time span.

Recurring events (RRULE, RDATE, EXDATE, moved instances with RECURRENCE-ID) become one
feature per occurrence within a window around the run (``ical_occurrences``), so the
geo API's ``at=`` finds next Tuesday's waste collection. Places come from GEO, Apple's
structured location, the options ``locations`` or ``default_location``
(``ical_places``); other events are skipped (no geocoding). A point outside the option
``bbox`` is kept with a warning in the run's log.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sensorgrid.geo.pipelines.extras import require
from sensorgrid.geo.pipelines.items import Item, Notice, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Source
from sensorgrid.geo.pipelines.sources.ical_occurrences import (
    MAX_OCCURRENCES,
    Occurrence,
    Series,
    Window,
    series,
    utc,
)
from sensorgrid.geo.pipelines.sources.ical_places import Area, Place, outside, place
from sensorgrid.geo.pipelines.sources.text import decode

#: Days of occurrences kept before and after the run, unless the options say otherwise:
#: last month's occurrences for a look back, a year ahead for planning.
WINDOW_PAST_DAYS = 30
WINDOW_FUTURE_DAYS = 365
_DAYS = {"type": "integer", "minimum": 0, "maximum": 3660}


class ICalSource(Source):
    key = "ical"
    description = (
        "iCalendar feed; options url, locations (place name → [lon, lat]), default_location, "
        "timezone (for floating times), window_past_days / window_future_days (recurring "
        "events), geo_axis, bbox (the area the places should lie in)."
    )
    own_options = {
        "locations": {"description": 'place name → [lon, lat]: {"Town hall": [13.4, 52.5]}'},
        "default_location": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
            "description": "[lon, lat] of events without GEO or a known LOCATION",
        },
        "timezone": {
            "type": "string",
            "description": "for floating times, default the feed's X-WR-TIMEZONE, else UTC",
        },
        "window_past_days": {
            **_DAYS,
            "description": f"occurrences of recurring events kept back to this many days "
            f"before the run ({WINDOW_PAST_DAYS})",
        },
        "window_future_days": {
            **_DAYS,
            "description": f"occurrences of recurring events expanded this many days "
            f"ahead ({WINDOW_FUTURE_DAYS})",
        },
        "geo_axis": {
            "enum": ["latlon", "lonlat"],
            "description": "order of GEO's two numbers: latlon (RFC 5545, default) or lonlat",
        },
        "bbox": {
            "type": "string",
            "description": "min_lon,min_lat,max_lon,max_lat: points outside are warned about",
        },
    }

    def check_options(self, options: dict[str, Any]) -> None:
        super().check_options(options)
        try:
            _zone(options, None)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Unknown timezone {options.get('timezone')!r}.") from None
        locations = options.get("locations") or {}
        if not isinstance(locations, dict):
            raise ValueError('locations must be an object: {"place name": [lon, lat]}.')
        for name, point in locations.items():
            if not (isinstance(point, list) and len(point) == 2):
                raise ValueError(f"locations.{name} must be [lon, lat].")
        if options.get("bbox"):
            Area.parse(options["bbox"])

    def parse(self, payload: bytes, options: dict[str, Any]) -> Iterator[Item | Skip | Notice]:
        text = decode(payload, options, "calendar")
        icalendar = require("icalendar")
        try:
            calendar = icalendar.Calendar.from_ical(text)
        except ValueError as exc:
            raise PipelineError(f"not an iCalendar feed: {exc}") from None
        zone = _zone(options, calendar.get("X-WR-TIMEZONE"))
        window = Window.around(
            datetime.now(UTC),
            _days(options, "window_past_days", WINDOW_PAST_DAYS),
            _days(options, "window_future_days", WINDOW_FUTURE_DAYS),
        )
        area = Area.parse(options["bbox"]) if options.get("bbox") else None
        locations = {k.strip().lower(): v for k, v in (options.get("locations") or {}).items()}
        for entry in series(calendar, window, zone):
            if isinstance(entry, Skip):
                yield entry
            else:
                yield from _series_items(entry, zone, options, locations, area)


def _series_items(
    entry: Series,
    zone: tzinfo,
    options: dict[str, Any],
    locations: dict[str, Any],
    area: Area | None,
) -> Iterator[Item | Skip | Notice]:
    """The items of one UID; the skips of a recurring event's occurrences are told once."""
    reasons: dict[str, list[str]] = {}  # reason -> ids of the occurrences it skipped
    for occurrence in entry.occurrences:
        ref = f"event {occurrence.external_id}"
        try:
            result = _item(occurrence, ref, zone, options, locations)
        except (ValueError, TypeError, KeyError) as exc:
            result = Skip(ref, str(exc))
        if isinstance(result, Skip):
            if occurrence.recurring:
                reasons.setdefault(result.reason, []).append(occurrence.external_id)
            else:
                yield result
            continue
        item, point = result
        if area is not None and not area.contains(*point.coordinates):
            yield Notice(ref, outside(point, area))
        yield item
    for reason, ids in reasons.items():
        of = f"{len(ids)} of {len(entry.occurrences)} occurrences in the window"
        yield Skip(f"event {entry.uid}", f"{reason} ({of}, the first {ids[0]})")
    if entry.cut:
        yield Skip(
            f"event {entry.uid}",
            f"more than {MAX_OCCURRENCES} occurrences in the window: the later ones are left "
            "out (narrow window_future_days or window_past_days)",
        )


def _item(
    occurrence: Occurrence, ref: str, zone: tzinfo, options: dict[str, Any], locations: dict
) -> tuple[Item, Place] | Skip:
    event = occurrence.event
    point = place(event, options, locations)
    if isinstance(point, str):
        return Skip(ref, point)
    if "DTSTART" not in event:
        return Skip(ref, "no DTSTART")
    raw_start = event.decoded("DTSTART")
    start = utc(raw_start, zone)
    if "DTEND" in event:
        end = utc(event.decoded("DTEND"), zone)
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    elif isinstance(raw_start, datetime):
        end = start  # RFC 5545: an event without end or duration lasts no time
    else:
        end = start + timedelta(days=1)  # an all-day event
    properties = {
        "summary": str(event.get("SUMMARY") or ""),
        "description": str(event.get("DESCRIPTION") or ""),
        "location": str(event.get("LOCATION") or "").strip(),
        "url": str(event.get("URL") or ""),
        "categories": _categories(event),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "all_day": isinstance(raw_start, date) and not isinstance(raw_start, datetime),
        "recurring": occurrence.recurring,
    }
    item = Item(
        ref=ref,
        properties=properties,
        geometry={"type": "Point", "coordinates": list(point.coordinates)},
        external_id=occurrence.external_id,
        valid_from=start,
        valid_to=end,
    )
    return item, point


def _categories(event: Any) -> list[str]:
    entries = event.get("CATEGORIES")
    categories: list[str] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if entry is not None:
            categories.extend(str(c) for c in getattr(entry, "cats", [entry]))
    return categories


def _days(options: dict[str, Any], name: str, default: int) -> int:
    value = options.get(name)
    return default if value is None else int(value)


def _zone(options: dict[str, Any], feed_zone: Any) -> tzinfo:
    """Floating times' zone: the option timezone, else the feed's X-WR-TIMEZONE (Google's
    feeds), else UTC. An X-WR-TIMEZONE no zone database knows is ignored."""
    name = options.get("timezone")
    if name:
        return ZoneInfo(name)
    if feed_zone:
        try:  # icalendar keeps the X- property as vUnknown (bytes)
            text = feed_zone.to_ical() if hasattr(feed_zone, "to_ical") else feed_zone
            return ZoneInfo(text.decode() if isinstance(text, bytes) else str(text))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC
