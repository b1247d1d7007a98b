"""The events of an iCalendar feed as occurrences, each with its own stable id.

A single event (no RRULE, RDATE or RECURRENCE-ID) is one occurrence whose id is its
UID, whatever its date, as before recurring events were expanded. A recurring event
(the components sharing a UID: the master with RRULE / RDATE / EXDATE and the instances
it moved, RECURRENCE-ID) is expanded with recurring-ical-events within a window around
now; each occurrence's id is ``UID@<original start>`` (``20261208T090000Z`` in UTC, or
``20261208`` for all-day events). The original start is the RECURRENCE-ID, so a moved
instance keeps the id of the slot it replaced and its feature is updated, not replaced.

Events without UID get ``ical-<hash>``: the first 20 hex digits of the SHA-256 of their
DTSTART (UTC, or the date), SUMMARY and LOCATION, one a line: stable from run to run as
long as those three stay.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sensorgrid.geo.pipelines.extras import require
from sensorgrid.geo.pipelines.items import Skip

#: Occurrences one recurring event may have in the window; a rule that yields more
#: (FREQ=MINUTELY over a year) is cut here instead of holding up the worker.
MAX_OCCURRENCES = 5000

RECURRENCE = ("RRULE", "RDATE", "RECURRENCE-ID")


@dataclass(frozen=True, slots=True)
class Window:
    """The span recurring events are expanded in (aware, UTC)."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime, past_days: int, future_days: int) -> "Window":
        return cls(now - timedelta(days=past_days), now + timedelta(days=future_days))


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event or one occurrence of a recurring event, with its own times."""

    external_id: str
    event: Any  # icalendar.Event (its DTSTART / DTEND are this occurrence's)
    recurring: bool


@dataclass(frozen=True, slots=True)
class Series:
    """The occurrences of one UID (a single event has one)."""

    uid: str
    occurrences: list[Occurrence]
    #: A recurring event had more occurrences in the window than MAX_OCCURRENCES.
    cut: bool = False


def series(calendar: Any, window: Window, zone: tzinfo) -> Iterator[Series | Skip]:
    """Each UID's occurrences, in the order the feed lists them; Skip for an unusable one."""
    groups: dict[str, list[Any]] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID") or "").strip()
        if not uid:
            uid = hashed_id(event, zone)
            # The library groups components by UID: without one, unrelated events would
            # become one series. A UID-less event is alone (nothing can refer to it).
            event["UID"] = uid
        groups.setdefault(uid, []).append(event)
    for uid, events in groups.items():
        if not any(name in event for event in events for name in RECURRENCE):
            # Single events stay as they were, duplicates included (the transform step
            # keeps the first of a duplicate id and reports the others).
            for event in events:
                yield Series(uid, [Occurrence(uid, event, recurring=False)])
            continue
        try:
            yield _expand(uid, events, window, zone)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            yield Skip(f"event {uid}", f"its recurrence cannot be expanded: {exc}")


def _expand(uid: str, events: list[Any], window: Window, zone: tzinfo) -> Series:
    icalendar = require("icalendar")
    recurring_ical_events = require("recurring_ical_events")
    # One calendar per UID, so that a broken rule costs its own event only.
    calendar = icalendar.Calendar()
    if isinstance(zone, ZoneInfo):
        # Floating times are in ``zone``: said with X-WR-TIMEZONE, which the library
        # applies before expanding, a floating DTSTART with a UTC RDATE is not read as UTC.
        calendar.add("X-WR-TIMEZONE", zone.key)
    for event in events:
        calendar.add_component(event)
    query = recurring_ical_events.of(calendar)
    occurrences: list[Occurrence] = []
    for entry in query.series:
        for occurrence in entry.between(window.start, window.end):
            if len(occurrences) == MAX_OCCURRENCES:
                return Series(uid, occurrences, cut=True)
            event = occurrence.as_component(False)
            external_id = f"{uid}@{stamp(_original_start(event), zone)}"
            occurrences.append(Occurrence(external_id, event, recurring=True))
    occurrences.sort(key=lambda o: o.external_id)
    return Series(uid, occurrences)


def _original_start(event: Any) -> date | datetime:
    """The start the rule gave this occurrence: its RECURRENCE-ID. Occurrences after a
    RANGE=THISANDFUTURE change carry that change's RECURRENCE-ID, not their own, so
    they are named by their own start instead."""
    recurrence_id = event.get("RECURRENCE-ID")
    if recurrence_id is not None and recurrence_id.params.get("RANGE") is None:
        value: date | datetime = event.decoded("RECURRENCE-ID")
        return value
    start: date | datetime = event.decoded("DTSTART")
    return start


def stamp(value: date | datetime, zone: tzinfo) -> str:
    """``20261208T090000Z`` (UTC; floating times in ``zone``) or ``20261208`` for a date."""
    if isinstance(value, datetime):
        return utc(value, zone).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def utc(value: date | datetime, zone: tzinfo) -> datetime:
    """A DTSTART/DTEND value in UTC: floating times and dates (midnight) are in ``zone``."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=zone).astimezone(UTC)
    raise ValueError(f"not a date or time: {value!r}")


def hashed_id(event: Any, zone: tzinfo) -> str:
    """``ical-`` and 20 hex digits of SHA-256 over DTSTART (UTC or date), SUMMARY, LOCATION."""
    start = ""
    if "DTSTART" in event:
        try:
            value = event.decoded("DTSTART")
            start = stamp(value, zone) if isinstance(value, date) else str(value)
        except (ValueError, TypeError, KeyError):
            start = str(event.get("DTSTART"))
    text = "\n".join((start, str(event.get("SUMMARY") or ""), str(event.get("LOCATION") or "")))
    return "ical-" + hashlib.sha256(text.encode()).hexdigest()[:20]
