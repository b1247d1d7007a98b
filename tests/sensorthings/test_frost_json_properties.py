"""FROST-Server's JsonPropertiesTests (FROST-Server.Tests c03filtering), ported: property
paths into ``properties``/``parameters`` read one value (``{"intArray[1]": 9}``), and
``$filter`` on JSON paths with strings, numbers, booleans, array indexes, ``in``,
unitOfMeasurement, resultQuality objects and arrays, and JSON compared with JSON of a
related entity."""

# ruff: noqa: F401, F811, E501

import pytest

from tests.sensorthings.conformance_client import alice, check_filter, demo


def letters(start: int, length: int) -> str:
    return "".join(chr(ord("a") + (start + i) % 26) for i in range(length))


def ints(start: int, length: int) -> list[int]:
    return list(range(start, start + length))


def int_ints(start: int, length: int) -> list[list[int]]:
    return [ints(start + i, length) for i in range(length)]


def objects(start: int, length: int) -> list[dict]:
    return [
        {"string": letters(v, 10), "boolean": v % 2 == 0, "int": v, "intArray": ints(v, 3)}
        for v in range(start, start + length)
    ]


RQ_OBJECT = {"DQ_Status": {"code": 2, "label": "Niveau 1", "comment": "Donnée contrôlée"}}
RQ_ARRAY = [
    {"nameOfMeasure": "DQ_Status", "DQ_Result": {"code": 2, "label": "Niveau 1", "comment": "x"}},
    {"nameOfMeasure": "DQ_Qualification", "DQ_Result": {"code": 1, "label": "Correcte", "comment": "y"}},
]  # fmt: skip


class World:
    def __init__(self, sta) -> None:
        self.sta = sta
        self.thing_properties = [
            {
                "string": letters(i, 10),
                "boolean": i % 2 == 0,
                "int": i + 8,
                "intArray": ints(i + 8, 5),
                "strArray": [f"s{v}" for v in range(i + 8, i + 13)],
                "intIntArray": int_ints(i + 8, 3),
                "objArray": objects(i + 8, 3),
            }
            for i in range(4)
        ]
        self.things = [
            sta.create(
                "Things", {"name": f"Thing {i}", "description": "It's a thing.", "properties": p}
            )
            for i, p in enumerate(self.thing_properties)
        ]
        sta.create(
            "Locations",
            {
                "name": "Location 1",
                "description": "Location of Thing 1.",
                "encodingType": "application/vnd.geo+json",
                "location": {"type": "Point", "coordinates": [8, 52]},
                "Things": [{"@iot.id": self.things[0]}],
            },
        )
        sensor = {"name": "Sensor 1", "description": "s", "encodingType": "text", "metadata": "m"}
        prop = {
            "name": "Temperature",
            "definition": "http://ucom.org/temperature",
            "description": "t",
        }
        self.datastreams = []
        for name, uom in (
            ("Datastream 1", {"name": "degree celcius", "symbol": "°C", "definition": "Cel"}),
            ("Datastream 2", {"name": "degree Fahrenheit", "symbol": "°F", "definition": "[degF]"}),
        ):
            self.datastreams.append(
                sta.create(
                    "Datastreams",
                    {
                        "name": name,
                        "description": name,
                        "observationType": "someType",
                        "unitOfMeasurement": uom,
                        "Thing": {"@iot.id": self.things[0]},
                        "Sensor": sensor,
                        "ObservedProperty": prop,
                    },
                )
            )
            sensor = prop = None  # the second one links the first's
            sensor = {
                "@iot.id": sta.get(f"Datastreams({self.datastreams[0]})/Sensor").body["@iot.id"]
            }
            prop = {
                "@iot.id": sta.get(f"Datastreams({self.datastreams[0]})/ObservedProperty").body[
                    "@iot.id"
                ]
            }
        self.parameters = []
        bodies = []
        for i in range(13):
            parameters = {
                "string": letters(i, 10),
                "boolean": i % 2 == 0,
                "int": i,
                "intArray": ints(i, 5),
                "intIntArray": int_ints(i, 3),
                "objArray": objects(i, 3),
            }
            bodies.append(
                {
                    "result": i,
                    "parameters": parameters,
                    "resultQuality": RQ_OBJECT if i % 2 == 0 else RQ_ARRAY,
                }
            )
        bodies.append({"result": "badVales1", "parameters": {
            "int": letters(13, 10), "string": False, "boolean": 13, "objArray": ints(13, 5),
            "intArray": int_ints(13, 3), "intIntArray": objects(13, 3)}})  # fmt: skip
        bodies.append({"result": "badVales2", "parameters": {
            "boolean": letters(14, 10), "int": True, "string": 14, "intIntArray": ints(14, 5),
            "objArray": int_ints(14, 3), "intArray": objects(14, 3)}})  # fmt: skip
        bodies.append({"result": "badVales3", "parameters": {"boolean": "true", "int": "5"}})
        self.observations = []
        for n, body in enumerate(bodies):
            body["phenomenonTime"] = f"2016-01-01T{n:02d}:00:00Z"
            body["Datastream"] = {"@iot.id": self.datastreams[0]}
            self.parameters.append(body["parameters"])
            self.observations.append(sta.create("Observations", body))

    def check(self, url: str, flt: str, mine: list[int], *expected: int) -> None:
        check_filter(self.sta, url, flt, mine, *expected)


@pytest.fixture
def world(alice) -> World:
    return World(alice)


def _read(sta, url: str) -> dict:
    answer = sta.get(url.replace("[", "%5B").replace("]", "%5D"))
    assert answer.status == 200, (url, answer.status, answer.text[:300])
    return answer.body


def test_01_02_fetch_low_level_properties(world):
    for base, values, name in (
        (f"Things({world.things[0]})", world.thing_properties[0], "properties"),
        (f"Observations({world.observations[0]})", world.parameters[0], "parameters"),
    ):
        sta = world.sta
        assert _read(sta, f"{base}/{name}/string") == {"string": values["string"]}
        assert _read(sta, f"{base}/{name}/boolean") == {"boolean": values["boolean"]}
        assert _read(sta, f"{base}/{name}/int") == {"int": values["int"]}
        assert _read(sta, f"{base}/{name}/intArray") == {"intArray": values["intArray"]}
        assert _read(sta, f"{base}/{name}/intArray[1]") == {"intArray[1]": values["intArray"][1]}
        assert _read(sta, f"{base}/{name}/intIntArray[1]") == {
            "intIntArray[1]": values["intIntArray"][1]
        }
        assert _read(sta, f"{base}/{name}/intIntArray[0][1]") == {
            "intIntArray[0][1]": values["intIntArray"][0][1]
        }
        assert _read(sta, f"{base}/{name}/objArray[0]/string") == {
            "string": values["objArray"][0]["string"]
        }


def test_03_string_filter(world):
    w = world
    w.check("Things", f"properties/string eq '{letters(2, 10)}'", w.things, 2)
    w.check("Observations", f"parameters/string eq '{letters(2, 10)}'", w.observations, 2)
    w.check("Things", "substringof('cdefgh', properties/string)", w.things, 0, 1, 2)
    w.check("Observations", "substringof('cdefgh', parameters/string)", w.observations, 0, 1, 2)
    w.check("Things", "properties/objArray[0]/string eq 'jklmnopqrs'", w.things, 1)
    w.check("Observations", "parameters/objArray[0]/string eq 'jklmnopqrs'", w.observations, 9)
    w.check("Observations", "parameters/int eq '5'", w.observations, 5, 15)


def test_04_number_filter(world):
    w = world
    w.check("Things", "properties/int eq 10", w.things, 2)
    w.check("Observations", "parameters/int eq 2", w.observations, 2)
    w.check("Things", "properties/int gt 9", w.things, 2, 3)
    w.check("Observations", "parameters/int gt 8", w.observations, 9, 10, 11, 12)
    w.check("Things", "properties/int lt 9", w.things, 0)
    w.check("Observations", "parameters/int lt 8", w.observations, 0, 1, 2, 3, 4, 5, 6, 7)
    w.check("Things", "properties/intArray[1] gt 10", w.things, 2, 3)
    w.check("Observations", "parameters/intArray[1] gt 9", w.observations, 9, 10, 11, 12)
    w.check("Things", "properties/intArray[1] lt 10", w.things, 0)
    w.check("Observations", "parameters/intArray[1] lt 9", w.observations, 0, 1, 2, 3, 4, 5, 6, 7)
    w.check("Things", "properties/intIntArray[1][0] gt 10", w.things, 2, 3)
    w.check("Observations", "parameters/intIntArray[1][0] gt 9", w.observations, 9, 10, 11, 12)
    w.check("Things", "properties/objArray[1]/intArray[0] gt 10", w.things, 2, 3)
    w.check(
        "Observations", "parameters/objArray[1]/intArray[0] gt 9", w.observations, 9, 10, 11, 12
    )


def test_05_boolean_filter(world):
    w = world
    odd = (1, 3, 5, 7, 9, 11)
    w.check("Things", "properties/boolean eq false", w.things, 1, 3)
    w.check("Observations", "parameters/boolean eq false", w.observations, *odd)
    w.check("Things", "properties/boolean", w.things, 0, 2)
    w.check("Observations", "parameters/boolean", w.observations, 0, 2, 4, 6, 8, 10, 12)
    w.check("Things", "not properties/boolean", w.things, 1, 3)
    w.check("Observations", "not parameters/boolean", w.observations, *odd)
    w.check("Things", "properties/objArray[1]/boolean", w.things, 1, 3)
    w.check("Observations", "parameters/objArray[1]/boolean", w.observations, *odd)


def test_06_unit_of_measurement_filter(world):
    w = world
    w.check("Datastreams", "unitOfMeasurement/symbol eq '°C'", w.datastreams, 0)
    w.check("Datastreams", "unitOfMeasurement/symbol eq '°F'", w.datastreams, 1)
    w.check("Datastreams", "unitOfMeasurement/name eq 'degree celcius'", w.datastreams, 0)
    w.check("Datastreams", "unitOfMeasurement/name eq 'degree Fahrenheit'", w.datastreams, 1)
    w.check("Datastreams", "unitOfMeasurement/definition eq 'Cel'", w.datastreams, 0)
    w.check("Datastreams", "unitOfMeasurement/definition eq '[degF]'", w.datastreams, 1)


def test_07_property_compare(world):
    w = world
    w.check("Observations", "parameters/int eq Datastream/Thing/properties/int", w.observations, 8)
    w.check(
        "Observations", "parameters/string eq Datastream/Thing/properties/string", w.observations, 0
    )
    w.check(
        "Observations",
        "parameters/boolean eq Datastream/Thing/properties/boolean",
        w.observations,
        0, 2, 4, 6, 8, 10, 12, 15,
    )  # fmt: skip


def test_08_in_number_filter(world):
    w = world
    w.check("Things", "properties/int in (8,9)", w.things, 0, 1)
    w.check("Things", "9 in properties/intArray", w.things, 0, 1)
    w.check("Things", "'s10' in properties/strArray", w.things, 0, 1, 2)


def test_20_result_quality_filter(world):
    w = world
    w.check(
        "Observations", "resultQuality/DQ_Status/code eq 2", w.observations, 0, 2, 4, 6, 8, 10, 12
    )
    w.check(
        "Observations", "resultQuality[0]/DQ_Result/code eq 2", w.observations, 1, 3, 5, 7, 9, 11
    )
