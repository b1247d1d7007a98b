"""Where iCalendar events are: Apple's structured location, a default place, GEO written
the wrong way round, points outside the declared area, and ids for events without UID."""

import hashlib

import pytest

from sensorgrid.geo.pipelines.sources import get
from tests.geo.test_ical_recurring import calendar, features, run

PARIS = "GEO:48.8566;2.3522"
BERLIN_BBOX = "13.08,52.33,13.77,52.68"


def serve(sources, name: str, *events: str) -> str:
    sources.answer(name, calendar(*events), content_type="text/calendar")
    return sources.url(name)


def test_apple_structured_locations_and_the_default_location_give_events_a_place(
    sources, make_pipeline
):
    url = serve(
        sources,
        "apple.ics",
        # As Apple Calendar writes it: a geo URI (latitude first, RFC 5870) and the address.
        r"""UID:apple-1@example.com
DTSTART:20270115T180000Z
SUMMARY:Lesung
LOCATION:Rotes Rathaus\nRathausstraße 15\, 10178 Berlin
X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS=Rathausstraße 15\, 10178 Berlin;X-APPLE-RADI
 US=70;X-TITLE=Rotes Rathaus:geo:52.518611,13.408333""",
        """UID:nowhere-1@example.com
DTSTART:20270116T180000Z
SUMMARY:Stadtrat
LOCATION:Sitzungssaal""",
    )
    pipeline = make_pipeline("ical", {"url": url, "default_location": [13.40, 52.52]})
    record, output = run(pipeline)

    assert record.status == "succeeded", output
    loaded = features(pipeline)
    assert loaded["apple-1@example.com"].geometry["coordinates"] == [13.408333, 52.518611]
    assert loaded["nowhere-1@example.com"].geometry["coordinates"] == [13.4, 52.52]
    assert record.skipped == 0


def test_geo_written_longitude_first_is_read_with_geo_axis_lonlat(sources, make_pipeline):
    url = serve(
        sources, "swapped.ics", "UID:s-1@example.com\nDTSTART:20270115T180000Z\nGEO:13.4081;52.5186"
    )
    as_written = make_pipeline("ical", {"url": url, "bbox": BERLIN_BBOX}, key="as-written")
    record, output = run(as_written)
    # Read as latitude 13.4, longitude 52.5 (in Kazakhstan): kept, with a warning naming the fix.
    assert record.status == "succeeded", output
    hint = (
        "warning event s-1@example.com: the point 52.5186 13.4081 (longitude latitude, from "
        f"GEO) lies outside the area bbox {BERLIN_BBOX}: GEO seems to be written longitude "
        "first (option geo_axis: lonlat)"
    )
    assert hint in record.log
    assert hint in output  # `pipeline run` shows it too

    fixed = make_pipeline(
        "ical", {"url": url, "bbox": BERLIN_BBOX, "geo_axis": "lonlat"}, key="fixed"
    )
    record, output = run(fixed)
    assert features(fixed)["s-1@example.com"].geometry["coordinates"] == [13.4081, 52.5186]
    assert "warning" not in record.log


def test_points_outside_the_declared_area_are_kept_with_a_warning(sources, make_pipeline):
    url = serve(
        sources,
        "away.ics",
        f"UID:paris@example.com\nDTSTART:20270115T180000Z\n{PARIS}",
        "UID:berlin@example.com\nDTSTART:20270115T180000Z\nGEO:52.5186;13.4081",
        "UID:named@example.com\nDTSTART:20270115T180000Z\nLOCATION:Louvre",
    )
    pipeline = make_pipeline(
        "ical", {"url": url, "bbox": BERLIN_BBOX, "locations": {"Louvre": [2.3376, 48.8606]}}
    )
    record, output = run(pipeline)

    assert record.status == "succeeded", output
    assert set(features(pipeline)) == {
        "paris@example.com",
        "berlin@example.com",
        "named@example.com",
    }
    warnings = [line for line in record.log.splitlines() if line.startswith("warning ")]
    assert warnings == [
        "warning event paris@example.com: the point 2.3522 48.8566 (longitude latitude, from "
        f"GEO) lies outside the area bbox {BERLIN_BBOX}: is the option geo_axis right?",
        "warning event named@example.com: the point 2.3376 48.8606 (longitude latitude, from "
        f"locations) lies outside the area bbox {BERLIN_BBOX}",
    ]


def test_events_without_uid_get_a_stable_hashed_id(sources, make_pipeline):
    url = serve(
        sources,
        "nouid.ics",
        "DTSTART;TZID=Europe/Berlin:20270115T190000\nSUMMARY:Konzert\nLOCATION:Stadthalle\n"
        "GEO:52.51;13.39",
    )
    pipeline = make_pipeline("ical", {"url": url})
    run(pipeline)

    # The documented recipe: DTSTART in UTC, SUMMARY, LOCATION, one a line.
    digest = hashlib.sha256(b"20270115T180000Z\nKonzert\nStadthalle").hexdigest()[:20]
    assert set(features(pipeline)) == {f"ical-{digest}"}
    again, output = run(pipeline)
    assert (again.created, again.unchanged, again.deleted) == (0, 1, 0), output


def test_unusable_places_are_skipped_with_the_reason_once_per_recurring_event(
    sources, make_pipeline
):
    url = serve(
        sources,
        "bad.ics",
        "UID:broken-geo@example.com\nDTSTART:20270115T180000Z\nGEO:abc;def",
        "UID:nowhere@example.com\nDTSTART;VALUE=DATE:20261201\nRRULE:FREQ=DAILY;COUNT=400\n"
        "LOCATION:Livestream",
        "UID:fine@example.com\nDTSTART:20270115T180000Z\nGEO:52.5;13.4",
    )
    pipeline = make_pipeline("ical", {"url": url, "window_past_days": 0})
    record, output = run(pipeline)

    assert record.status == "succeeded", output
    assert set(features(pipeline)) == {"fine@example.com"}
    skipped = [line for line in record.log.splitlines() if line.startswith("skipped ")]
    assert (
        skipped[0]
        == "skipped event broken-geo@example.com: GEO 'abc;def' is not latitude;longitude"
    )
    assert len(skipped) == 2
    assert skipped[1].startswith(
        "skipped event nowhere@example.com: no GEO coordinates (location 'Livestream' is not "
        "in the option locations) ("
    )
    assert "occurrences in the window, the first nowhere@example.com@" in skipped[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window_future_dayz": 30}, "unknown option 'window_future_dayz' (did you mean"),
        ({"window_future_days": -1}, "window_future_days: -1 is less than the minimum of 0"),
        ({"geo_axis": "yx"}, "geo_axis: 'yx' is not one of latlon, lonlat"),
        ({"default_location": [13.4]}, "default_location: [13.4] is too short"),
        ({"bbox": "13,52,14"}, "bbox: '13,52,14' is not min_lon,min_lat,max_lon,max_lat"),
    ],
)
def test_options_are_checked_when_the_pipeline_is_saved(options, message):
    with pytest.raises(ValueError) as caught:
        get("ical").check_options({"url": "https://example.org/events.ics", **options})
    assert message in str(caught.value)
