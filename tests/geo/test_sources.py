"""Each source, run end to end against recorded answers from the local test server."""

import urllib.parse
from datetime import UTC, datetime

from sensorgrid.geo.models import Feature, RunStatus
from sensorgrid.geo.pipelines import runner

OVERPASS_QUERY = (
    '[out:json][timeout:25];area["name"="Berlin"]->.a;'
    "nwr[amenity=bicycle_parking](area.a);out center;"
)


def features(pipeline) -> dict[str, Feature]:
    return {f.external_id: f for f in Feature.objects.filter(layer=pipeline.layer)}


def skipped(run) -> list[str]:
    return [line for line in run.log.splitlines() if line.startswith("skipped ")]


def test_it_loads_osm_nodes_ways_and_relations_from_overpass(sources, make_pipeline):
    pipeline = make_pipeline(
        "overpass",
        {
            "url": sources.url("overpass.json"),
            "query": OVERPASS_QUERY,
            "mapping": {"types": {"capacity": "int"}},
        },
    )
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert set(loaded) == {"node/240109189", "node/1734458702", "way/48562114", "relation/4455"}
    station = loaded["way/48562114"]
    assert station.geometry == {"type": "Point", "coordinates": [13.3694, 52.5251]}
    assert station.properties["capacity"] == 200
    assert station.properties["name"] == "Fahrradparkhaus Hauptbahnhof"
    assert (station.min_x, station.min_y, station.max_x, station.max_y) == (
        13.3694,
        52.5251,
        13.3694,
        52.5251,
    )
    assert run.skipped == 1
    assert "way/99887766" in skipped(run)[0] and "out geom" in skipped(run)[0]
    request = sources.requests[-1]
    assert request.method == "POST"
    assert urllib.parse.parse_qs(request.body.decode())["data"] == [OVERPASS_QUERY]


def test_an_overpass_answer_cut_off_by_a_timeout_fails_the_run(sources, make_pipeline):
    pipeline = make_pipeline(
        "overpass", {"url": sources.url("overpass.json"), "query": OVERPASS_QUERY}
    )
    runner.run(pipeline)
    pipeline.options["url"] = sources.url("overpass-timeout.json")
    pipeline.save()

    run = runner.run(pipeline)

    assert run.status == RunStatus.FAILED
    assert "incomplete answer" in run.error and "timed out" in run.error
    assert len(features(pipeline)) == 4  # nothing deleted


def test_it_reads_wfs_geojson_and_asks_for_the_feature_type(sources, make_pipeline):
    pipeline = make_pipeline(
        "wfs",
        {"url": sources.url("wfs-trees.geojson"), "type_name": "fis:baumbestand", "count": 100},
        geometry_type="Point",
    )
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert len(loaded) == 3
    linde = loaded["baumbestand.00008100:000a1f47"]
    assert linde.properties["art_dtsch"] == "Linde"
    assert linde.geometry["coordinates"] == [13.40123, 52.51987]
    assert run.skipped == 1 and "no geometry" in run.log
    query = urllib.parse.parse_qs(sources.requests[-1].path.split("?", 1)[1])
    assert query["typeNames"] == ["fis:baumbestand"]
    assert query["request"] == ["GetFeature"]
    assert query["outputFormat"] == ["application/json"]
    assert query["count"] == ["100"]


def test_it_reads_wfs_gml_points_lines_and_polygons_in_latitude_first_order(sources, make_pipeline):
    pipeline = make_pipeline(
        "wfs",
        {
            "url": sources.url("wfs-construction.gml"),
            "type_name": "city:baustellen",
            "output_format": "text/xml; subtype=gml/3.2",
            "mapping": {"valid_from": "beginn", "valid_to": "ende"},
        },
    )
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert set(loaded) == {"baustellen.1041", "baustellen.1042", "baustellen.1043"}
    assert loaded["baustellen.1041"].geometry == {
        "type": "Point",
        "coordinates": [13.4092, 52.5215],
    }
    assert loaded["baustellen.1042"].geometry["type"] == "LineString"
    assert loaded["baustellen.1042"].geometry["coordinates"][0] == [13.3889, 52.517]
    school = loaded["baustellen.1043"]
    assert school.geometry["type"] == "Polygon"
    assert len(school.geometry["coordinates"]) == 2  # the hole survives
    assert school.properties["titel"] == "Neubau Schule Alexanderplatz"
    assert school.valid_from == datetime(2025, 5, 1, tzinfo=UTC)
    assert school.valid_to == datetime(2028, 8, 31, tzinfo=UTC)
    assert run.skipped == 1 and "no GML geometry" in run.log


def test_a_wfs_exception_report_fails_the_run_with_the_servers_words(sources, make_pipeline):
    pipeline = make_pipeline(
        "wfs", {"url": sources.url("wfs-exception.xml"), "type_name": "city:baustelle"}
    )
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert "Feature type city:baustelle unknown" in run.error


def test_gml_in_a_coordinate_system_proj_does_not_know_is_skipped_clearly(sources, make_pipeline):
    gml = (sources_dir() / "wfs-construction.gml").read_text()
    sources.answer("odd.gml", gml.replace("urn:ogc:def:crs:EPSG::4326", "EPSG:999999"))
    pipeline = make_pipeline("wfs", {"url": sources.url("odd.gml"), "type_name": "x"})
    run = runner.run(pipeline)
    assert "unknown coordinate system 'EPSG:999999'" in run.log


def sources_dir():
    from tests.geo.conftest import DATA

    return DATA


def test_ical_events_with_a_place_become_points_valid_for_their_span(sources, make_pipeline):
    pipeline = make_pipeline("ical", {"url": sources.url("events.ics")})
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert set(loaded) == {"evt-2026-1001@stadt.example.org", "evt-2026-1003@stadt.example.org"}
    market = loaded["evt-2026-1001@stadt.example.org"]
    assert market.geometry["coordinates"] == [13.4081, 52.5186]
    assert market.valid_from == datetime(2026, 12, 5, 16, tzinfo=UTC)
    assert market.valid_to == datetime(2026, 12, 5, 21, tzinfo=UTC)
    assert market.properties["summary"] == "Weihnachtsmarkt am Rathaus"
    assert market.properties["categories"] == ["Markt", "Familie"]
    concert = loaded["evt-2026-1003@stadt.example.org"]
    assert concert.valid_from == datetime(2026, 12, 20, 18, tzinfo=UTC)  # 19:00 in Berlin
    assert concert.valid_to == datetime(2026, 12, 20, 20, tzinfo=UTC)  # DURATION PT2H
    assert run.skipped == 2
    assert "'Volkspark' is not in the option locations" in run.log
    assert "'Livestream' is not in the option locations" in run.log


def test_ical_places_named_in_the_options_are_used_for_events_without_geo(sources, make_pipeline):
    pipeline = make_pipeline(
        "ical", {"url": sources.url("events.ics"), "locations": {"Volkspark": [13.42, 52.52]}}
    )
    run = runner.run(pipeline)

    festival = features(pipeline)["evt-2026-1002@stadt.example.org"]
    assert festival.geometry["coordinates"] == [13.42, 52.52]
    # An all-day event lasts the whole day.
    assert festival.valid_from == datetime(2026, 12, 12, tzinfo=UTC)
    assert festival.valid_to == datetime(2026, 12, 13, tzinfo=UTC)
    assert festival.properties["all_day"] is True
    assert run.skipped == 1


def test_csv_rows_are_mapped_and_malformed_rows_reported_and_skipped(sources, make_pipeline):
    pipeline = make_pipeline(
        "csv",
        {
            "url": sources.url("bike-stands.csv"),
            "mapping": {
                "id": "id",
                "properties": {"name": "name", "capacity": "capacity", "covered": "covered"},
                "types": {"capacity": "int", "covered": "bool"},
                "constants": {"source": "Stadt Beispiel"},
            },
        },
    )
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert set(loaded) == {"BS-001", "BS-002", "BS-003", "BS-008"}
    town_hall = loaded["BS-001"]
    assert town_hall.geometry["coordinates"] == [13.4081, 52.5186]  # decimal commas
    assert town_hall.properties == {
        "name": "Rathaus",
        "capacity": 12,
        "covered": True,
        "source": "Stadt Beispiel",
    }
    assert run.created == 4 and run.skipped == 4
    reasons = "\n".join(skipped(run))
    assert "line 5: lat is empty" in reasons
    assert "line 6: lon: 'north' is not a number" in reasons
    assert "line 7: capacity: 'zehn' is not a int" in reasons
    assert "line 8: 3 fields where the header has 6" in reasons


def test_wikipedia_geosearch_articles_become_points(sources, make_pipeline):
    pipeline = make_pipeline(
        "wikipedia",
        {"url": sources.url("wikipedia.json"), "lat": 52.52, "lon": 13.405, "radius": 1000},
    )
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert set(loaded) == {"3354", "188434", "154549"}
    assert loaded["188434"].properties["title"] == "Rotes Rathaus"
    assert loaded["188434"].properties["url"] == "https://en.wikipedia.org/?curid=188434"
    assert run.skipped == 1
    query = urllib.parse.parse_qs(sources.requests[-1].path.split("?", 1)[1])
    assert query["list"] == ["geosearch"]
    assert query["gscoord"] == ["52.52|13.405"]


def test_geojson_features_of_the_wrong_type_or_invalid_are_skipped(sources, make_pipeline):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 1,
                "geometry": {"type": "Point", "coordinates": [13.4, 52.5]},
                "properties": {},
            },
            {
                "type": "Feature",
                "id": 2,
                "geometry": {"type": "LineString", "coordinates": [[13.4, 52.5], [13.5, 52.6]]},
                "properties": {},
            },
            {
                "type": "Feature",
                "id": 3,
                "geometry": {"type": "Point", "coordinates": [520000, 5800000]},
                "properties": {},
            },
            {
                "type": "Feature",
                "id": 4,
                "geometry": {"type": "Point", "coordinates": ["a"]},
                "properties": {},
            },
        ],
    }
    import json

    sources.answer("mixed.geojson", json.dumps(collection), content_type="application/geo+json")
    pipeline = make_pipeline(
        "geojson", {"url": sources.url("mixed.geojson")}, geometry_type="Point"
    )
    run = runner.run(pipeline)

    assert set(features(pipeline)) == {"1"}
    assert run.skipped == 3
    assert "a LineString, but the layer holds Point features" in run.log
    assert "outside longitude/latitude range" in run.log
    assert "malformed Point geometry" in run.log


def test_json_records_are_found_by_path_and_mapped_by_dotted_fields(sources, make_pipeline):
    document = {
        "meta": {"count": 3},
        "data": {
            "items": [
                {
                    "uid": 17,
                    "label": "Ladesäule Markt",
                    "pos": {"lat": 52.51, "lng": 13.41},
                    "kw": "22",
                    "since": "2024-03-01",
                },
                {
                    "uid": 18,
                    "label": "Ladesäule Bahnhof",
                    "pos": {"lat": 52.52, "lng": 13.43},
                    "kw": "50",
                    "since": "2025-07-15T10:00:00+02:00",
                },
                {"uid": 19, "label": "ohne Ort", "pos": None},
                "not a record",
            ]
        },
    }
    import json

    sources.answer("chargers.json", json.dumps(document), content_type="application/json")
    pipeline = make_pipeline(
        "json",
        {
            "url": sources.url("chargers.json"),
            "records": "data.items",
            "mapping": {
                "id": "uid",
                "lon": "pos.lng",
                "lat": "pos.lat",
                "properties": {"name": "label", "power_kw": "kw", "since": "since"},
                "types": {"power_kw": "float", "since": "datetime"},
                "valid_from": "since",
            },
        },
    )
    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    loaded = features(pipeline)
    assert set(loaded) == {"17", "18"}
    assert loaded["18"].properties == {
        "name": "Ladesäule Bahnhof",
        "power_kw": 50.0,
        "since": "2025-07-15T08:00:00+00:00",
    }
    assert loaded["18"].valid_from == datetime(2025, 7, 15, 8, tzinfo=UTC)
    assert run.skipped == 2
    assert "record 3: pos.lng is empty" in run.log
    assert "record 4: a str, not an object" in run.log


def test_a_json_document_without_the_list_fails_with_a_hint(sources, make_pipeline):
    sources.answer("chargers.json", '{"data": {}}', content_type="application/json")
    pipeline = make_pipeline("json", {"url": sources.url("chargers.json"), "records": "data.x"})
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED and "set the option records" in run.error


def test_csv_geometries_can_be_wkt_and_polygons_get_a_bounding_box(sources, make_pipeline):
    sources.answer(
        "areas.csv",
        "OBJECTID,NAME,SHAPE\n"
        '1,Spielplatz,"POLYGON ((13.4 52.5, 13.42 52.5, 13.42 52.51, 13.4 52.51, 13.4 52.5))"\n'
        '2,Bowtie,"POLYGON ((13.4 52.5, 13.42 52.51, 13.42 52.5, 13.4 52.51, 13.4 52.5))"\n'
        "3,Kaputt,POLYGON ((13.4\n",
    )
    pipeline = make_pipeline(
        "csv",
        {"url": sources.url("areas.csv"), "mapping": {"id": "OBJECTID", "geometry": "SHAPE"}},
        geometry_type="Polygon",
    )
    run = runner.run(pipeline)

    playground = features(pipeline)["1"]
    assert (playground.min_x, playground.min_y, playground.max_x, playground.max_y) == (
        13.40,
        52.50,
        13.42,
        52.51,
    )
    assert playground.properties == {"OBJECTID": "1", "NAME": "Spielplatz"}
    assert run.skipped == 2
    assert "invalid Polygon: Self-intersection" in run.log
    assert "neither GeoJSON nor WKT" in run.log

    pipeline.options["repair"] = True
    pipeline.save()
    repaired = runner.run(pipeline)
    assert repaired.created == 1 and repaired.skipped == 1
    assert features(pipeline)["2"].geometry["type"] == "MultiPolygon"
