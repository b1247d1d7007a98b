"""FROST-Server's GeoTests (FROST-Server.Tests c03filtering/GeoTests), ported: every
geospatial function on Locations, FeaturesOfInterest, Observations (through their
FeatureOfInterest) and Datastreams (their observedArea, from their Observations'
FeaturesOfInterest)."""

# ruff: noqa: F401, F811

import pytest

from tests.sensorthings.conformance_client import alice, check_filter, demo

UOM = {"name": "degree celcius", "symbol": "°C", "definition": "ucum:T"}
GEOMETRIES = [
    {"type": "Point", "coordinates": [8, 51]},
    {"type": "Point", "coordinates": [8, 52]},
    {"type": "Point", "coordinates": [8, 53]},
    {"type": "Point", "coordinates": [8, 54]},
    {"type": "Polygon", "coordinates": [[[8, 53], [7, 52], [7, 53], [8, 53]]]},
    {"type": "LineString", "coordinates": [[5, 52], [5, 53]]},
    {"type": "LineString", "coordinates": [[5, 52], [6, 53]]},
    {"type": "LineString", "coordinates": [[4, 52], [8, 52]]},
]
#: the Thing each Location belongs to (None: none), the Datastream of each FoI's Observation
LOCATION_THING = [0, 0, 1, 2, 3, None, None, None]
FOI_DATASTREAM = [0, 0, 1, 2, None, None, None, None]
BOX = "POLYGON((7.5 51.5, 7.5 53.5, 8.5 53.5, 8.5 51.5, 7.5 51.5))"


class World:
    def __init__(self, sta) -> None:
        self.sta = sta
        self.things = [
            sta.create("Things", {"name": f"Thing {i + 1}", "description": "a thing"})
            for i in range(4)
        ]
        sensor = sta.create(
            "Sensors",
            {"name": "Sensor 1", "description": "s", "encodingType": "text", "metadata": "m"},
        )
        prop = sta.create(
            "ObservedProperties",
            {
                "name": "Temperature",
                "definition": "http://ucom.org/temperature",
                "description": "t",
            },
        )
        self.datastreams = [
            sta.create(
                "Datastreams",
                {
                    "name": f"Datastream {i + 1}",
                    "description": "d",
                    "observationType": "someType",
                    "unitOfMeasurement": UOM,
                    "Thing": {"@iot.id": self.things[i]},
                    "Sensor": {"@iot.id": sensor},
                    "ObservedProperty": {"@iot.id": prop},
                },
            )
            for i in range(3)
        ]
        self.locations, self.features, self.observations = [], [], []
        for i, geometry in enumerate(GEOMETRIES):
            body = {
                "name": f"Location {i}",
                "description": f"Location {i}",
                "encodingType": "application/vnd.geo+json",
                "location": geometry,
            }
            if LOCATION_THING[i] is not None:
                body["Things"] = [{"@iot.id": self.things[LOCATION_THING[i]]}]
            self.locations.append(sta.create("Locations", body))
            feature = sta.create(
                "FeaturesOfInterest",
                {
                    "name": f"FoI {i}",
                    "description": f"This should be FoI #{i}.",
                    "encodingType": "application/geo+json",
                    "feature": geometry,
                },
            )
            self.features.append(feature)
            if FOI_DATASTREAM[i] is not None:
                day = f"2016-01-0{i + 1}"
                self.observations.append(
                    sta.create(
                        "Observations",
                        {
                            "result": i + 1,
                            "phenomenonTime": f"{day}T01:01:01.000Z",
                            "validTime": f"{day}T01:01:01.000Z/{day}T23:59:59.999Z",
                            "FeatureOfInterest": {"@iot.id": feature},
                            "Datastream": {"@iot.id": self.datastreams[FOI_DATASTREAM[i]]},
                        },
                    )
                )

    def check(self, url: str, flt: str, *expected: int) -> None:
        mine = {
            "Locations": self.locations,
            "FeaturesOfInterest": self.features,
            "Observations": self.observations,
            "Datastreams": self.datastreams,
        }[url]
        check_filter(self.sta, url, flt, mine, *expected)


@pytest.fixture
def world(alice) -> World:
    return World(alice)


def test_geo_distance(world):
    w = world
    w.check("Locations", "geo.distance(location, geography'POINT(8 54.1)') lt 1", 3)
    w.check(
        "Locations", "geo.distance(location, geography'POINT(8 54.1)') gt 1", 0, 1, 2, 4, 5, 6, 7
    )
    w.check(
        "Observations", "geo.distance(FeatureOfInterest/feature, geography'POINT(8 54.1)') lt 1", 3
    )
    w.check(
        "Observations",
        "geo.distance(FeatureOfInterest/feature, geography'POINT(8 54.1)') gt 1",
        0,
        1,
        2,
    )


def test_geo_intersects(world):
    w = world
    w.check("Locations", "geo.intersects(location, geography'LINESTRING(7.5 51, 7.5 54)')", 4, 7)
    w.check(
        "FeaturesOfInterest", "geo.intersects(feature, geography'LINESTRING(7.5 51, 7.5 54)')", 4, 7
    )
    w.check("Datastreams", f"geo.intersects(observedArea, geography'{BOX}')", 0, 1)


def test_geo_length(world):
    w = world
    for url, prop in (("Locations", "location"), ("FeaturesOfInterest", "feature")):
        w.check(url, f"geo.length({prop}) gt 1", 6, 7)
        w.check(url, f"geo.length({prop}) ge 1", 5, 6, 7)
        w.check(url, f"geo.length({prop}) eq 1", 5)
        w.check(url, f"geo.length({prop}) ne 1", 0, 1, 2, 3, 4, 6, 7)
        w.check(url, f"geo.length({prop}) le 4", 0, 1, 2, 3, 4, 5, 6, 7)
        w.check(url, f"geo.length({prop}) lt 4", 0, 1, 2, 3, 4, 5, 6)


def test_st_contains(world):
    w = world
    w.check("Locations", f"st_contains(geography'{BOX}', location)", 1, 2)
    w.check("Observations", f"st_contains(geography'{BOX}', FeatureOfInterest/feature)", 1, 2)
    w.check("Datastreams", f"st_contains(geography'{BOX}', observedArea)", 1)


def test_st_crosses(world):
    line = "geography'LINESTRING(7.5 51.5, 7.5 53.5)'"
    world.check("Locations", f"st_crosses({line}, location)", 4, 7)
    world.check("FeaturesOfInterest", f"st_crosses({line}, feature)", 4, 7)


def test_st_disjoint(world):
    world.check("Locations", f"st_disjoint(geography'{BOX}', location)", 0, 3, 5, 6)
    world.check("FeaturesOfInterest", f"st_disjoint(geography'{BOX}', feature)", 0, 3, 5, 6)


def test_st_equals(world):
    world.check("Locations", "st_equals(location, geography'POINT(8 53)')", 2)
    world.check("FeaturesOfInterest", "st_equals(feature, geography'POINT(8 53)')", 2)


def test_st_intersects(world):
    w = world
    w.check("Locations", "st_intersects(location, geography'LINESTRING(7.5 51, 7.5 54)')", 4, 7)
    w.check(
        "FeaturesOfInterest", "st_intersects(feature, geography'LINESTRING(7.5 51, 7.5 54)')", 4, 7
    )
    w.check("Datastreams", f"st_intersects(observedArea, geography'{BOX}')", 0, 1)


def test_st_overlaps(world):
    world.check("Locations", f"st_overlaps(geography'{BOX}', location)", 4)
    world.check("FeaturesOfInterest", f"st_overlaps(geography'{BOX}', feature)", 4)


def test_st_relate(world):
    world.check("Locations", f"st_relate(geography'{BOX}', location, 'T********')", 1, 2, 4, 7)
    world.check(
        "FeaturesOfInterest", f"st_relate(geography'{BOX}', feature, 'T********')", 1, 2, 4, 7
    )


def test_st_touches(world):
    tri = "geography'POLYGON((8 53, 7.5 54.5, 8.5 54.5, 8 53))'"
    world.check("Locations", f"st_touches({tri}, location)", 2, 4)
    world.check("FeaturesOfInterest", f"st_touches({tri}, feature)", 2, 4)


def test_st_within(world):
    world.check("Locations", "st_within(geography'POINT(7.5 52.75)', location)", 4)
    world.check("FeaturesOfInterest", "st_within(geography'POINT(7.5 52.75)', feature)", 4)
