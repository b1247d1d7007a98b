"""Overpass relations with out geom, MediaWiki generator=geosearch (issue 18, item 15)."""

import json
import urllib.parse

import pytest

from sensorgrid.geo.models import Feature, RunStatus
from sensorgrid.geo.pipelines import runner

QUERY = '[out:json];rel["type"="multipolygon"]["leisure"="park"](52.5,13.3,52.6,13.5);out geom;'


def way(role: str, *points: tuple[float, float]) -> dict:
    return {
        "type": "way",
        "ref": 1,
        "role": role,
        "geometry": [{"lat": lat, "lon": lon} for lon, lat in points],
    }


#: As Overpass answers `out geom` for relations: member ways with their coordinates,
#: the outer ring of the park split over two ways, a pond as inner ring, an island park.
PARK = {
    "type": "relation",
    "id": 7001,
    "bounds": {"minlat": 52.50, "minlon": 13.30, "maxlat": 52.53, "maxlon": 13.36},
    "members": [
        way("outer", (13.30, 52.50), (13.34, 52.50), (13.34, 52.52)),
        way("outer", (13.34, 52.52), (13.30, 52.52), (13.30, 52.50)),
        way("inner", (13.31, 52.505), (13.32, 52.505), (13.32, 52.51), (13.31, 52.505)),
        way("outer", (13.35, 52.52), (13.36, 52.52), (13.36, 52.53), (13.35, 52.52)),
        {"type": "node", "ref": 5, "role": "label", "lat": 52.51, "lon": 13.32},
    ],
    "tags": {"type": "multipolygon", "leisure": "park", "name": "Stadtpark"},
}
ROUTE = {
    "type": "relation",
    "id": 7002,
    "members": [way("", (13.30, 52.50), (13.31, 52.51)), way("", (13.31, 52.51), (13.32, 52.5))],
    "tags": {"type": "route", "route": "bicycle", "name": "Mauerweg"},
}
BROKEN = {
    "type": "relation",
    "id": 7003,
    "members": [way("outer", (13.30, 52.50), (13.34, 52.50), (13.34, 52.52))],
    "tags": {"type": "multipolygon"},
}


def test_overpass_multipolygon_relations_become_multipolygons(sources, make_pipeline):
    answer = {"version": 0.6, "elements": [PARK, ROUTE, BROKEN]}
    sources.answer("rel.json", json.dumps(answer), content_type="application/json")
    pipeline = make_pipeline("overpass", {"url": sources.url("rel.json"), "query": QUERY})

    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    park = Feature.objects.get(external_id="relation/7001")
    assert park.geometry["type"] == "MultiPolygon"
    polygons = park.geometry["coordinates"]
    assert len(polygons) == 2  # the park and the island
    assert sorted(len(p) for p in polygons) == [1, 2]  # the pond is a hole of the park
    assert (park.min_x, park.min_y, park.max_x, park.max_y) == (13.30, 52.50, 13.36, 52.53)
    assert park.properties["name"] == "Stadtpark"
    route = Feature.objects.get(external_id="relation/7002")
    assert route.geometry["type"] == "MultiLineString"
    assert run.skipped == 1
    assert "relation/7003: the outer ways of the multipolygon do not close" in run.log


GENERATOR_V2 = {
    "batchcomplete": True,
    "query": {
        "pages": [
            {
                "pageid": 188434,
                "ns": 0,
                "title": "Rotes Rathaus",
                "coordinates": [
                    {
                        "lat": 52.518611,
                        "lon": 13.408333,
                        "primary": True,
                        "globe": "earth",
                        "dist": 257.3,
                    }
                ],
                "description": "town hall of Berlin",
            },
            {
                "pageid": 3354,
                "ns": 0,
                "title": "Berlin",
                "coordinates": [
                    {"lat": 52.52, "lon": 13.405, "primary": True, "globe": "earth", "dist": 0}
                ],
            },
            {"pageid": 999, "ns": 0, "title": "Ohne Ort"},
        ]
    },
}
GENERATOR_V1 = {
    "batchcomplete": "",
    "query": {
        "pages": {
            "188434": {
                "pageid": 188434,
                "ns": 0,
                "title": "Rotes Rathaus",
                "coordinates": [
                    {"lat": 52.518611, "lon": 13.408333, "primary": "", "globe": "earth"}
                ],
            }
        }
    },
}


@pytest.mark.parametrize("answer", [GENERATOR_V2, GENERATOR_V1], ids=["formatversion2", "1"])
def test_mediawiki_generator_geosearch_pages_become_points(sources, make_pipeline, answer):
    sources.answer("wiki.json", json.dumps(answer), content_type="application/json")
    pipeline = make_pipeline(
        "wikipedia",
        {"url": sources.url("wiki.json"), "lat": 52.52, "lon": 13.405, "generator": True},
    )

    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    town_hall = Feature.objects.get(external_id="188434")
    assert town_hall.geometry["coordinates"] == [13.408333, 52.518611]
    assert town_hall.properties["title"] == "Rotes Rathaus"
    query = urllib.parse.parse_qs(sources.requests[-1].path.split("?", 1)[1])
    assert query["generator"] == ["geosearch"] and query["ggscoord"] == ["52.52|13.405"]
    assert "coordinates" in query["prop"][0]
    if answer is GENERATOR_V2:
        assert town_hall.properties["distance_m"] == 257.3
        assert town_hall.properties["description"] == "town hall of Berlin"
        assert run.skipped == 1 and "page 999" in run.log
