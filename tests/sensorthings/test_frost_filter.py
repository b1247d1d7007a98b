"""FROST-Server's FilterTests (FROST-Server.Tests c03filtering/FilterTests), ported: filters
through related entities (to-many, back and forth, comparing two entities' JSON
properties), substring, eq/ne null on JSON paths and navigations, null properties → 204,
resultQuality of either JSON type, and OData's lambda operator any()."""

# ruff: noqa: F401, F811, E501

from datetime import UTC, datetime, timedelta

import pytest

from tests.sensorthings.conformance_client import alice, check_filter, demo

UOM = {"name": "degree celcius", "symbol": "°C", "definition": "ucum:T"}


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


class World:
    def __init__(self, sta) -> None:
        self.sta = sta
        things = [
            {"name": "Thing 1", "description": "The first thing."},
            {"name": "Thing 2", "description": "The second thing.", "properties": {"field": 2, "string": "one"}},
            {"name": "Thing 3", "description": "The third thing.", "properties": {"field": 3, "string": "two"}},
            {"name": "Thing 4", "description": "The fourth thing."},
        ]  # fmt: skip
        self.things = [sta.create("Things", body) for body in things]
        locations = [
            ("Location 1.0", point(8, 51), 1, 0),
            ("Location 1.1", point(8, 52), 1.1, 0),
            ("Location 2", point(8, 53), 2, 1),
            ("Location 3", point(8, 54), 3, 2),
            ("Location 4", {"type": "Polygon", "coordinates": [[[8, 53], [7, 52], [7, 53], [8, 53]]]}, 4, 3),
            ("Location 5", {"type": "LineString", "coordinates": [[5, 52], [5, 53]]}, 5, None),
            ("Location 6", {"type": "LineString", "coordinates": [[5, 52], [6, 53]]}, 6, None),
            ("Location 7", {"type": "LineString", "coordinates": [[4, 52], [8, 52]]}, 7, None),
        ]  # fmt: skip
        self.locations = []
        for name, geometry, field, thing in locations:
            body = {
                "name": name,
                "description": name,
                "encodingType": "application/vnd.geo+json",
                "location": geometry,
                "properties": {"field": field},
            }
            if thing is not None:
                body["Things"] = [{"@iot.id": self.things[thing]}]
            self.locations.append(sta.create("Locations", body))
        self.sensors = [
            sta.create(
                "Sensors",
                {
                    "name": f"Sensor {i}",
                    "description": f"The sensor with idx {i}.",
                    "encodingType": "text",
                    "metadata": "Some metadata.",
                    "properties": {"idx": i},
                },
            )
            for i in range(4)
        ]
        self.props = [
            sta.create(
                "ObservedProperties",
                {
                    "name": f"ObservedProperty {i}",
                    "definition": f"http://ucom.org/{kind}",
                    "description": f"ObservedProperty with index {i}.",
                    "properties": {"idx": i},
                },
            )
            for i, kind in enumerate(("temperature", "humidity", "pressure", "turbidity"))
        ]
        streams = [(0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 0), (1, 1, 1), (1, 3, 3), (2, 1, 0)]
        self.datastreams = [
            sta.create(
                "Datastreams",
                {
                    "name": f"Datastream {i}",
                    "description": f"Datastream {i}",
                    "observationType": "someType",
                    "unitOfMeasurement": UOM,
                    "properties": {"idx": i},
                    "Thing": {"@iot.id": self.things[t]},
                    "Sensor": {"@iot.id": self.sensors[s]},
                    "ObservedProperty": {"@iot.id": self.props[o]},
                },
            )
            for i, (t, s, o) in enumerate(streams)
        ]
        self.observations: list[int] = []
        start = datetime(2016, 1, 1, 1, tzinfo=UTC)
        for d in range(6):
            for i in range(6):
                idx = len(self.observations)
                body = {
                    "result": d * 3 + i,
                    "phenomenonTime": (start + timedelta(hours=i)).isoformat(),
                    "validTime": "2016-01-01T07:00:00Z/2016-01-01T08:00:00Z",
                    "parameters": {"idx": idx},
                    "resultQuality": idx if idx % 2 == 0 else f"number-{idx}",
                    "Datastream": {"@iot.id": self.datastreams[d]},
                }
                self.observations.append(sta.create("Observations", body))

    def check(self, url: str, flt: str, mine: list[int], *expected: int) -> None:
        check_filter(self.sta, url, flt, mine, *expected)


@pytest.fixture
def world(alice) -> World:
    return World(alice)


def test_indirect_filter(world):
    world.check("Things", "Locations/name eq 'Location 2'", world.things, 1)
    world.check(
        "Things", "startswith(HistoricalLocations/Locations/name, 'Location 1')", world.things, 0
    )
    world.check(
        "Things",
        "HistoricalLocations/Locations/properties/field eq properties/field",
        world.things,
        1,
        2,
    )


def test_deep_indirection(world):
    flt = "Datastreams/Thing/Datastreams/ObservedProperty/name eq 'ObservedProperty %d'"
    world.check("ObservedProperties", flt % 0, world.props, 0, 1, 2, 3)
    world.check("ObservedProperties", flt % 3, world.props, 0, 1, 3)


def test_substring(world):
    world.check("Things", "substring(properties/string, 1) eq 'wo'", world.things, 2)
    world.check("Things", "substring(properties/string, 1, 1) eq 'w'", world.things, 2)
    world.check("Things", "substring(name, 4) eq 'g 4'", world.things, 3)
    world.check("Things", "substring(name, 4, 3) eq 'g 4'", world.things, 3)


def test_equals_null_and_not_null(world):
    world.check("Things", "properties/field eq null", world.things, 0, 3)
    world.check("Things", "Datastreams/id eq null", world.things, 3)
    world.check("Things", "properties/field ne null", world.things, 1, 2)
    world.check("Things", "Datastreams/id ne null", world.things, 0, 1, 2)


def test_null_entity_property_is_204(world):
    # Thing 1 was created without properties: they are null, not {}
    thing = world.things[0]
    assert world.sta.get(f"Things({thing})").body["properties"] is None
    for url in (f"Things({thing})/properties", f"Things({thing})/properties/$value"):
        answer = world.sta.get(url)
        assert answer.status == 204, (url, answer.status, answer.text[:200])
    # and a JSON-PATCH may still add below them
    patched = world.sta.patch(
        f"Things({thing})",
        [{"op": "add", "path": "/properties/a", "value": 1}],
        content_type="application/json-patch+json",
    )
    assert patched.status == 200 and patched.body["properties"] == {"a": 1}


def test_result_quality_of_either_type(world):
    world.check("Observations", "resultQuality eq 'number-1'", world.observations, 1)
    world.check("Observations", "resultQuality eq 2", world.observations, 2)


def test_any_filter(world):
    world.check("Things", "Locations/any(l:l/name eq 'Location 2')", world.things, 1)
    world.check(
        "Things",
        "HistoricalLocations/any(hl : hl/Locations/any(l : startswith(l/name, 'Location 1')))",
        world.things,
        0,
    )
    world.check(
        "Things",
        "HistoricalLocations/any(hl : hl/Locations/any(l : l/properties/field eq properties/field))",
        world.things,
        1,
        2,
    )
    both = "Datastreams/any(d:d/ObservedProperty/name eq 'ObservedProperty %d') and Datastreams/any(d:d/ObservedProperty/name eq 'ObservedProperty %d')"
    world.check("Things", both % (0, 1), world.things, 0, 1)
    world.check("Things", both % (3, 1), world.things, 1)
    world.check(
        "Things",
        "Datastreams/any(d:d/ObservedProperty/name eq 'ObservedProperty 0' and d/Sensor/name eq 'Sensor 1')",
        world.things,
        2,
    )
