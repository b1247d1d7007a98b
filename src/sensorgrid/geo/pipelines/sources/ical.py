"""iCalendar event feeds: events with a place become points valid for their time span.

Coordinates come from the event's GEO property, or, for events that only name a
LOCATION, from the option ``locations`` ({"Town hall": [lon, lat]}); other events are
skipped (no geocoding). Recurring events contribute their first occurrence only.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sensorgrid.geo.pipelines.extras import require
from sensorgrid.geo.pipelines.items import Item, PipelineError, Skip
from sensorgrid.geo.pipelines.registry import Source
from sensorgrid.geo.pipelines.sources.text import decode


class ICalSource(Source):
    key = "ical"
    description = (
        "iCalendar feed; options url, locations (place name → [lon, lat]), timezone "
        "(for floating times, default UTC)."
    )
    own_options = {
        "locations": {"description": 'place name → [lon, lat]: {"Town hall": [13.4, 52.5]}'},
        "timezone": {"type": "string", "description": "for floating times, default UTC"},
    }

    def check_options(self, options: dict) -> None:
        super().check_options(options)
        try:
            _zone(options)
        except ZoneInfoNotFoundError:
            raise ValueError(f"Unknown timezone {options.get('timezone')!r}.") from None
        locations = options.get("locations") or {}
        if not isinstance(locations, dict):
            raise ValueError('locations must be an object: {"place name": [lon, lat]}.')
        for name, point in locations.items():
            if not (isinstance(point, list) and len(point) == 2):
                raise ValueError(f"locations.{name} must be [lon, lat].")

    def parse(self, payload: bytes, options: dict) -> Iterator[Item | Skip]:
        text = decode(payload, options, "calendar")
        icalendar = require("icalendar")
        try:
            calendar = icalendar.Calendar.from_ical(text)
        except ValueError as exc:
            raise PipelineError(f"not an iCalendar feed: {exc}") from None
        zone = _zone(options)
        locations = {k.strip().lower(): v for k, v in (options.get("locations") or {}).items()}
        for number, event in enumerate(calendar.walk("VEVENT"), start=1):
            uid = str(event.get("UID") or "").strip()
            ref = f"event {uid or number}"
            try:
                item = _item(event, ref, uid, zone, locations)
            except (ValueError, TypeError, KeyError) as exc:
                yield Skip(ref, str(exc))
                continue
            yield item


def _item(event, ref: str, uid: str, zone, locations: dict) -> Item | Skip:
    if not uid:
        return Skip(ref, "no UID")
    if "RECURRENCE-ID" in event:
        uid = f"{uid}@{_when(event.decoded('RECURRENCE-ID'), zone).isoformat()}"
    location = str(event.get("LOCATION") or "").strip()
    geo = event.get("GEO")
    if geo is not None:
        geometry = {"type": "Point", "coordinates": [float(geo.longitude), float(geo.latitude)]}
    elif location.lower() in locations:
        lon, lat = locations[location.lower()]
        geometry = {"type": "Point", "coordinates": [float(lon), float(lat)]}
    else:
        why = f"location {location!r} is not in the option locations" if location else "no place"
        return Skip(ref, f"no GEO coordinates ({why})")
    if "DTSTART" not in event:
        return Skip(ref, "no DTSTART")
    raw_start = event.decoded("DTSTART")
    start = _when(raw_start, zone)
    if "DTEND" in event:
        end = _when(event.decoded("DTEND"), zone)
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    elif isinstance(raw_start, datetime):
        end = start  # RFC 5545: an event without end or duration lasts no time
    else:
        end = start + timedelta(days=1)  # an all-day event
    categories: list[str] = []
    for entry in (
        event.get("CATEGORIES", [])
        if isinstance(event.get("CATEGORIES"), list)
        else [event.get("CATEGORIES")]
    ):
        if entry is not None:
            categories.extend(str(c) for c in getattr(entry, "cats", [entry]))
    properties = {
        "summary": str(event.get("SUMMARY") or ""),
        "description": str(event.get("DESCRIPTION") or ""),
        "location": location,
        "url": str(event.get("URL") or ""),
        "categories": categories,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "all_day": not isinstance(raw_start, datetime),
        "recurring": "RRULE" in event,
    }
    return Item(
        ref=ref,
        properties=properties,
        geometry=geometry,
        external_id=uid,
        valid_from=start,
        valid_to=end,
    )


def _when(value, zone) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=zone).astimezone(UTC)
    raise ValueError(f"not a date or time: {value!r}")


def _zone(options: dict):
    name = options.get("timezone")
    return ZoneInfo(name) if name else UTC
