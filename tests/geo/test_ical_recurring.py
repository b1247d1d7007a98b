"""Recurring iCalendar events: each occurrence in the window is a feature of its own.

The feeds follow RFC 5545's examples (§3.8.5 RRULE / RDATE / EXDATE, §3.8.4.4
RECURRENCE-ID, §3.6.1 the all-day anniversary) with dates placed around today, since the
window is measured from the run. They are served by the local test server and run
through `sensorgrid pipeline run`, as an operator would.
"""

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from sensorgrid.geo.models import Feature, PipelineRun

BERLIN = ZoneInfo("Europe/Berlin")
RATHAUS = "GEO:52.5186;13.4081"  # latitude;longitude (RFC 5545 §3.8.1.6)


def calendar(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Stadt Beispiel//DE\r\n{body}END:VCALENDAR\r\n"
    )


def local(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute)).strftime("%Y%m%dT%H%M%S")


def run(pipeline) -> tuple[PipelineRun, str]:
    out = StringIO()
    try:
        call_command("pipeline", "run", pipeline.key, "--no-progress", stdout=out, stderr=out)
    except CommandError as exc:
        out.write(f"\nCommandError: {exc}")
    return PipelineRun.objects.filter(pipeline=pipeline).latest("pk"), out.getvalue()


def features(pipeline) -> dict[str, Feature]:
    return {f.external_id: f for f in Feature.objects.filter(layer=pipeline.layer)}


@pytest.fixture
def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def next_tuesday(today) -> date:
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


@pytest.fixture
def waste_feed(next_tuesday) -> str:
    """Weekly waste collection on Tuesdays 07:00-07:30 Berlin time, for ten weeks back:
    cancelled in two weeks (EXDATE), an extra collection the day after (RDATE), and the
    one in three weeks moved to Thursday 09:00 (RECURRENCE-ID)."""
    first = next_tuesday - timedelta(weeks=10)
    cancelled, moved = next_tuesday + timedelta(weeks=2), next_tuesday + timedelta(weeks=3)
    return calendar(
        f"""UID:waste-nord@stadt.example.org
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:{local(first, 7)}
DTEND;TZID=Europe/Berlin:{local(first, 7, 30)}
RRULE:FREQ=WEEKLY;BYDAY=TU
EXDATE;TZID=Europe/Berlin:{local(cancelled, 7)}
RDATE;TZID=Europe/Berlin:{local(cancelled + timedelta(days=1), 7)}
SUMMARY:Restmüll Nord
CATEGORIES:Abfall
{RATHAUS}""",
        f"""UID:waste-nord@stadt.example.org
DTSTAMP:20260102T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:{local(moved, 7)}
DTSTART;TZID=Europe/Berlin:{local(moved + timedelta(days=2), 9)}
DTEND;TZID=Europe/Berlin:{local(moved + timedelta(days=2), 9, 30)}
SUMMARY:Restmüll Nord (verschoben)
GEO:52.5200;13.4100""",
    )


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def test_a_weekly_event_becomes_one_feature_per_occurrence_in_the_window(
    sources, make_pipeline, waste_feed, next_tuesday
):
    sources.answer("waste.ics", waste_feed, content_type="text/calendar")
    pipeline = make_pipeline("ical", {"url": sources.url("waste.ics"), "window_future_days": 60})
    record, output = run(pipeline)

    assert record.status == "succeeded", output
    loaded = features(pipeline)
    uid = "waste-nord@stadt.example.org"
    stamp = berlin(next_tuesday, 7).strftime("%Y%m%dT%H%M%SZ")
    nxt = loaded[f"{uid}@{stamp}"]
    assert nxt.valid_from == berlin(next_tuesday, 7)
    assert nxt.valid_to == berlin(next_tuesday, 7, 30)
    assert nxt.properties["recurring"] is True
    assert nxt.properties["summary"] == "Restmüll Nord"
    assert nxt.properties["categories"] == ["Abfall"]
    assert nxt.geometry["coordinates"] == [13.4081, 52.5186]

    starts = sorted(f.valid_from for f in loaded.values())
    now = datetime.now(UTC)
    # The window: 30 days back (the default), 60 ahead; ten weeks back are left out.
    assert starts[0] >= now - timedelta(days=30) - timedelta(hours=1)
    assert starts[0] < now - timedelta(days=23)
    assert starts[-1] <= now + timedelta(days=60)
    cancelled = next_tuesday + timedelta(weeks=2)
    assert berlin(cancelled, 7) not in starts  # EXDATE
    assert berlin(cancelled + timedelta(days=1), 7) in starts  # RDATE
    moved = next_tuesday + timedelta(weeks=3)
    assert berlin(moved, 7) not in starts
    # The moved instance keeps the id of the slot it replaced, with its own time and place.
    shifted = loaded[f"{uid}@{berlin(moved, 7).strftime('%Y%m%dT%H%M%SZ')}"]
    assert shifted.valid_from == berlin(moved + timedelta(days=2), 9)
    assert shifted.properties["summary"] == "Restmüll Nord (verschoben)"
    assert shifted.geometry["coordinates"] == [13.41, 52.52]
    # Tuesdays in the window, less the cancelled one, plus the extra Wednesday.
    tuesdays = [
        d
        for d in (next_tuesday + timedelta(weeks=k) for k in range(-6, 10))
        if now - timedelta(days=30) <= berlin(d, 7, 30) and berlin(d, 7) <= now + timedelta(days=60)
    ]
    assert len(loaded) == len(tuesdays) - 1 + 1
    assert f"{len(loaded)} created" in output

    again, output = run(pipeline)  # ids are stable: nothing changes
    assert again.created == 0 and again.deleted == 0, output
    assert again.unchanged == len(loaded)


def test_at_finds_next_tuesdays_collection_in_the_geo_api(
    sources, make_pipeline, waste_feed, next_tuesday, client_for, world
):
    sources.answer("waste.ics", waste_feed, content_type="text/calendar")
    pipeline = make_pipeline("ical", {"url": sources.url("waste.ics")}, is_public=True)
    record, output = run(pipeline)
    assert record.status == "succeeded", output

    def at(moment: datetime) -> list[dict]:
        answer = client_for(None).get(f"/api/geo/{pipeline.layer.key}/", {"at": moment.isoformat()})
        assert answer.status_code == 200, answer.content
        return answer.json()["features"]

    found = at(berlin(next_tuesday, 7, 15))
    assert [f["properties"]["summary"] for f in found] == ["Restmüll Nord"]
    assert found[0]["valid_from"].startswith(berlin(next_tuesday, 7).strftime("%Y-%m-%dT%H:%M"))
    assert at(berlin(next_tuesday, 8)) == []  # over at 07:30
    assert at(berlin(next_tuesday + timedelta(weeks=2), 7, 15)) == []  # cancelled
    moved = next_tuesday + timedelta(weeks=3, days=2)
    assert [f["properties"]["summary"] for f in at(berlin(moved, 9, 15))] == [
        "Restmüll Nord (verschoben)"
    ]


def test_an_event_in_local_time_follows_daylight_saving_time(sources, make_pipeline, today):
    # A year ahead always holds winter (CET, UTC+1) and summer time (CEST, UTC+2).
    first = today - timedelta(days=today.weekday(), weeks=10)  # a Monday ten weeks ago
    sources.answer(
        "dst.ics",
        calendar(
            f"""UID:market@stadt.example.org
DTSTART;TZID=Europe/Berlin:{local(first, 10)}
DURATION:PT4H
RRULE:FREQ=WEEKLY
SUMMARY:Wochenmarkt
{RATHAUS}"""
        ),
        content_type="text/calendar",
    )
    pipeline = make_pipeline("ical", {"url": sources.url("dst.ics")})
    record, output = run(pipeline)
    assert record.status == "succeeded", output

    loaded = list(features(pipeline).values())
    now = datetime.now(UTC)
    mondays = (first + timedelta(weeks=k) for k in range(80))
    expected = [
        d
        for d in mondays
        if now - timedelta(days=30) < berlin(d, 14) and berlin(d, 10) < now + timedelta(days=365)
    ]
    assert len(loaded) == len(expected)  # weekly for 30 + 365 days
    for market in loaded:
        local_start = market.valid_from.astimezone(BERLIN)
        assert (local_start.hour, local_start.minute, local_start.weekday()) == (10, 0, 0)
        assert market.valid_to - market.valid_from == timedelta(hours=4)
    assert {m.valid_from.hour for m in loaded} == {8, 9}  # 10:00 CEST and 10:00 CET in UTC


def test_all_day_yearly_events_last_their_day(sources, make_pipeline, today):
    # RFC 5545 §3.6.1: "Our Blissful Anniversary", DTSTART;VALUE=DATE:19971102, yearly.
    sources.answer(
        "anniversary.ics",
        calendar(
            f"""UID:19970901T130000Z-123403@example.com
DTSTAMP:19970901T130000Z
DTSTART;VALUE=DATE:19971102
SUMMARY:Our Blissful Anniversary
CATEGORIES:ANNIVERSARY,PERSONAL,SPECIAL OCCASION
RRULE:FREQ=YEARLY
{RATHAUS}""",
            # RFC 5545 §3.8.5.3: Tuesdays and Thursdays for five weeks in 1997: long over.
            """UID:19970902-ny@example.com
DTSTART;TZID=America/New_York:19970902T090000
RRULE:FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH
SUMMARY:Over long ago
GEO:40.7128;-74.0060""",
        ),
        content_type="text/calendar",
    )
    pipeline = make_pipeline("ical", {"url": sources.url("anniversary.ics")})
    record, output = run(pipeline)
    assert record.status == "succeeded", output

    now = datetime.now(UTC)
    expected = {
        date(year, 11, 2)
        for year in (today.year - 1, today.year, today.year + 1)
        if now - timedelta(days=30) < datetime(year, 11, 3, tzinfo=UTC)
        and datetime(year, 11, 2, tzinfo=UTC) < now + timedelta(days=365)
    }
    assert expected  # 395 days hold at least one 2 November
    loaded = features(pipeline)
    assert set(loaded) == {f"19970901T130000Z-123403@example.com@{d:%Y%m%d}" for d in expected}
    for day in expected:
        feature = loaded[f"19970901T130000Z-123403@example.com@{day:%Y%m%d}"]
        assert feature.valid_from == datetime.combine(day, time.min, tzinfo=UTC)
        assert feature.valid_to == feature.valid_from + timedelta(days=1)
        assert feature.properties["all_day"] is True


def test_periods_this_and_future_changes_and_the_feeds_own_timezone(
    sources, make_pipeline, next_tuesday
):
    # RFC 5545 §3.8.5.2 RDATE;VALUE=PERIOD and §3.8.4.4 RANGE=THISANDFUTURE; floating
    # times in the zone Google's feeds name in X-WR-TIMEZONE.
    extra = next_tuesday + timedelta(days=3)
    changed = next_tuesday + timedelta(weeks=2)
    feed = calendar(
        f"""UID:course@example.com
DTSTART;TZID=Europe/Berlin:{local(next_tuesday, 18)}
DTEND;TZID=Europe/Berlin:{local(next_tuesday, 19)}
RRULE:FREQ=WEEKLY;COUNT=4
RDATE;VALUE=PERIOD:{berlin(extra, 10).strftime("%Y%m%dT%H%M%SZ")}/PT3H
SUMMARY:Kurs
{RATHAUS}""",
        f"""UID:course@example.com
RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:{local(changed, 18)}
DTSTART;TZID=Europe/Berlin:{local(changed, 19)}
DTEND;TZID=Europe/Berlin:{local(changed, 20)}
SUMMARY:Kurs (später)
{RATHAUS}""",
        f"""UID:floating@example.com
DTSTART:{local(next_tuesday, 12)}
DURATION:PT1H
RRULE:FREQ=DAILY;COUNT=2
SUMMARY:Mittag
{RATHAUS}""",
    ).replace(
        "PRODID:-//Stadt Beispiel//DE",
        "PRODID:-//Stadt Beispiel//DE\r\nX-WR-TIMEZONE:Europe/Berlin",
    )
    sources.answer("course.ics", feed, content_type="text/calendar")
    pipeline = make_pipeline("ical", {"url": sources.url("course.ics")})
    record, output = run(pipeline)
    assert record.status == "succeeded", output

    loaded = features(pipeline)
    spans = sorted((f.valid_from, f.valid_to, f.properties["summary"]) for f in loaded.values())
    week = timedelta(weeks=1)
    assert spans == [
        (berlin(next_tuesday, 12), berlin(next_tuesday, 13), "Mittag"),
        (berlin(next_tuesday, 18), berlin(next_tuesday, 19), "Kurs"),
        (
            berlin(next_tuesday, 12) + timedelta(days=1),
            berlin(next_tuesday, 13) + timedelta(days=1),
            "Mittag",
        ),
        (berlin(extra, 10), berlin(extra, 13), "Kurs"),
        (berlin(next_tuesday + week, 18), berlin(next_tuesday + week, 19), "Kurs"),
        (berlin(changed, 19), berlin(changed, 20), "Kurs (später)"),
        (berlin(changed + week, 19), berlin(changed + week, 20), "Kurs (später)"),
    ]
    # After a THISANDFUTURE change, the later occurrences are named by their own start.
    stamp = berlin(changed + week, 19).strftime("%Y%m%dT%H%M%SZ")
    assert f"course@example.com@{stamp}" in loaded


def test_a_broken_rule_or_one_with_too_many_occurrences_is_reported(
    sources, make_pipeline, next_tuesday
):
    sources.answer(
        "rules.ics",
        calendar(
            f"UID:broken@example.com\nDTSTART:{local(next_tuesday, 9)}Z\n"
            f"RRULE:FREQ=SOMETIMES\n{RATHAUS}",
            f"UID:minutely@example.com\nDTSTART:{local(next_tuesday - timedelta(days=8), 9)}Z\n"
            f"RRULE:FREQ=MINUTELY\n{RATHAUS}",
            f"UID:once@example.com\nDTSTART:{local(next_tuesday, 9)}Z\n{RATHAUS}",
        ),
        content_type="text/calendar",
    )
    options = {"url": sources.url("rules.ics"), "window_past_days": 0, "window_future_days": 5}
    pipeline = make_pipeline("ical", options)
    record, output = run(pipeline)

    assert record.status == "succeeded", output
    loaded = features(pipeline)
    assert "once@example.com" in loaded
    assert sum(1 for key in loaded if key.startswith("minutely@example.com@")) == 5000
    skipped = [line for line in record.log.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2
    assert skipped[0].startswith("skipped event broken@example.com: its recurrence cannot be ")
    assert skipped[1] == (
        "skipped event minutely@example.com: more than 5000 occurrences in the window: the "
        "later ones are left out (narrow window_future_days or window_past_days)"
    )
