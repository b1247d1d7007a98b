"""FROST-Server's DateTimeTests (FROST-Server.Tests c03filtering/DateTimeTests), ported:
time instants and intervals in phenomenonTime, resultTime and validTime compared with
the operators, the temporal functions (before, after, meets, during, overlaps, starts,
finishes), durations and year(), on Observations and on the Datastreams' computed
phenomenonTime/resultTime intervals. The literals are written as FROST's Java client
writes them (``2016-01-01T07:00Z``: Java drops zero seconds; intervals ``a/b``)."""

# ruff: noqa: F401, F811, E501

from urllib.parse import quote

import pytest

from tests.sensorthings.conformance_client import UNIT, alice, demo

T2014 = "2014-01-01T06:00Z"
T2015 = "2015-01-01T06:00Z"
T600 = "2016-01-01T06:00Z"
T659 = "2016-01-01T06:59Z"
T700 = "2016-01-01T07:00Z"
T701 = "2016-01-01T07:01Z"
T759 = "2016-01-01T07:59Z"
T800 = "2016-01-01T08:00Z"
T801 = "2016-01-01T08:01Z"
T900 = "2016-01-01T09:00Z"
T2017 = "2017-01-01T09:00Z"
T2017_2 = "2017-01-01T10:00Z"
T2018 = "2018-01-01T09:00Z"


def interval(a: str, b: str) -> str:
    # TimeInterval.toString() of FROST's client: full seconds, "/" between
    return f"{a[:-1]}:00Z/{b[:-1]}:00Z"


I2015 = interval(T2015, "2015-01-01T07:00Z")
I600_659 = interval(T600, T659)
I600_700 = interval(T600, T700)
I600_701 = interval(T600, T701)
I700_800 = interval(T700, T800)
I701_759 = interval(T701, T759)
I759_900 = interval(T759, T900)
I800_900 = interval(T800, T900)
I801_900 = interval(T801, T900)
I659_801 = interval(T659, T801)
I700_759 = interval(T700, T759)
I700_801 = interval(T700, T801)
I659_800 = interval(T659, T800)
I701_800 = interval(T701, T800)
I2017 = interval(T2017, T2017_2)
I2014_2015 = interval(T2014, T2015)
I2014_2017_2 = interval(T2014, T2017_2)
I2014_2018 = interval(T2014, T2018)
I2015_2017_2 = interval(T2015, T2017_2)
I2015_2018 = interval(T2015, T2018)
I2017_2_2018 = interval(T2017_2, T2018)

#: (phenomenonTime, resultTime, validTime) of Observations 0..24, in FROST's order.
OBSERVATIONS = [
    (T600, T600, None),
    (T659, T659, None),
    (T700, T700, None),
    (T701, T701, None),
    (T759, T759, None),
    (T800, T800, None),
    (T801, T801, None),
    (T900, T900, None),
    (I600_659, None, I600_659),
    (I600_700, None, I600_700),
    (I600_701, None, I600_701),
    (I700_800, None, I700_800),
    (I701_759, None, I701_759),
    (I759_900, None, I759_900),
    (I800_900, None, I800_900),
    (I801_900, None, I801_900),
    (I659_801, None, I659_801),
    (I700_759, None, I700_759),
    (I700_801, None, I700_801),
    (I659_800, None, I659_800),
    (I701_800, None, I701_800),
    (T2015, T2015, None),
    (T2017, T2017, None),
    (I2015, T2015, I2015),
    (I2017, T2017_2, I2017),
]


class World:
    def __init__(self, sta) -> None:
        self.sta = sta
        thing = {
            "name": "Thing 1",
            "description": "The first thing.",
            "Locations": [
                {
                    "name": "Location 1.0",
                    "description": "Location of Thing 1.",
                    "encodingType": "application/vnd.geo+json",
                    "location": {"type": "Point", "coordinates": [8, 51]},
                }
            ],
        }
        thing_id = sta.create("Things", thing)
        sensor = sta.create(
            "Sensors",
            {
                "name": "Sensor 1",
                "description": "The first sensor.",
                "encodingType": "text",
                "metadata": "Some metadata.",
            },
        )
        prop = sta.create(
            "ObservedProperties",
            {
                "name": "Temperature",
                "definition": "http://ucom.org/temperature",
                "description": "The temperature of the thing.",
            },
        )
        self.datastreams = [
            sta.create(
                "Datastreams",
                {
                    "name": f"Datastream {n}",
                    "description": f"Datastream {n} of thing 1, sensor 1.",
                    "observationType": "someType",
                    "unitOfMeasurement": {
                        "name": "degree celcius",
                        "symbol": "°C",
                        "definition": "ucum:T",
                    },
                    "Thing": {"@iot.id": thing_id},
                    "Sensor": {"@iot.id": sensor},
                    "ObservedProperty": {"@iot.id": prop},
                },
            )
            for n in (1, 2)
        ]
        self.observations = []
        for i, (pt, rt, vt) in enumerate(OBSERVATIONS):
            body = {
                "result": float(i),
                "phenomenonTime": pt,
                "resultTime": rt,
                "Datastream": {"@iot.id": self.datastreams[0]},
            }
            if vt:
                body["validTime"] = vt
            self.observations.append(sta.create("Observations", body))

    def ids(self, url: str, flt: str) -> set[int]:
        answer = self.sta.get(f"{url}?$filter={quote(flt)}&$select=id&$top=1000")
        assert answer.status == 200, (flt, answer.status, answer.text[:300])
        return {e["@iot.id"] for e in answer.value}

    def check(self, flt: str, *expected: int) -> None:
        got = self.ids(f"Datastreams({self.datastreams[0]})/Observations", flt)
        want = {self.observations[i] for i in expected}
        index = {o: n for n, o in enumerate(self.observations)}
        assert got == want, (flt, sorted(index[o] for o in got), sorted(expected))

    def check_datastreams(self, tpl: str, *expected: tuple[int, ...] | None) -> None:
        values = [T2014, T2015, T700, T2017_2, T2018, I700_800, I2014_2015, I2014_2017_2]
        values += [I2014_2018, I2015_2017_2, I2015_2018, I2017_2_2018]
        for value, wanted in zip(values, expected, strict=True):
            if wanted is None:
                continue
            for prop in ("phenomenonTime", "resultTime"):
                flt = tpl.replace("{}", prop) % value
                got = self.ids("Datastreams", flt) & set(self.datastreams)
                want = {self.datastreams[i] for i in wanted}
                assert got == want, (flt, got, want)

    def time_value(self, tpl: str, *expected: tuple[int, ...]) -> None:
        cases = [
            (p, v) for v in (T700, I700_800) for p in ("resultTime", "validTime", "phenomenonTime")
        ]
        for (prop, value), wanted in zip(cases, expected, strict=True):
            self.check(tpl % (prop, value), *wanted)

    def value_time(self, tpl: str, *expected: tuple[int, ...]) -> None:
        cases = [
            (v, p) for v in (T700, I700_800) for p in ("resultTime", "validTime", "phenomenonTime")
        ]
        for (value, prop), wanted in zip(cases, expected, strict=True):
            self.check(tpl % (value, prop), *wanted)


@pytest.fixture
def world(alice) -> World:
    return World(alice)


NONE: tuple[int, ...] = ()
D0 = (0,)


def test_01_lt(world):
    world.time_value(
        "%s lt %s",
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
    )  # fmt: skip
    world.value_time(
        "%s lt %s",
        (3, 4, 5, 6, 7, 22, 24), (12, 13, 14, 15, 20, 24), (3, 4, 5, 6, 7, 12, 13, 14, 15, 20, 22, 24),
        (5, 6, 7, 22, 24), (14, 15, 24), (5, 6, 7, 14, 15, 22, 24),
    )  # fmt: skip
    world.check_datastreams(
        "{} lt %s", NONE, NONE, NONE, D0, D0, NONE, NONE, NONE, NONE, NONE, NONE, D0
    )


def test_02_gt(world):
    world.time_value(
        "%s gt %s",
        (3, 4, 5, 6, 7, 22, 24), (12, 13, 14, 15, 20, 24), (3, 4, 5, 6, 7, 12, 13, 14, 15, 20, 22, 24),
        (5, 6, 7, 22, 24), (14, 15, 24), (5, 6, 7, 14, 15, 22, 24),
    )  # fmt: skip
    world.value_time(
        "%s gt %s",
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
    )  # fmt: skip
    world.check_datastreams(
        "{} gt %s", D0, NONE, NONE, NONE, NONE, NONE, D0, NONE, NONE, NONE, NONE, NONE
    )


def test_03_le(world):
    world.time_value(
        "%s le %s",
        (0, 1, 2, 21, 23), (8, 9, 23), (0, 1, 2, 8, 9, 21, 23),
        (0, 1, 2, 21, 23), (8, 9, 10, 11, 17, 19, 23), (0, 1, 2, 8, 9, 10, 11, 17, 19, 21, 23),
    )  # fmt: skip
    world.value_time(
        "%s le %s",
        (2, 3, 4, 5, 6, 7, 22, 24), (11, 12, 13, 14, 15, 17, 18, 20, 24),
        (2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 17, 18, 20, 22, 24),
        (5, 6, 7, 22, 24), (11, 13, 14, 15, 18, 20, 24), (5, 6, 7, 11, 13, 14, 15, 18, 20, 22, 24),
    )  # fmt: skip
    world.check_datastreams(
        "{} le %s", NONE, NONE, NONE, D0, D0, NONE, NONE, NONE, NONE, D0, D0, D0
    )


def test_04_ge(world):
    world.time_value(
        "%s ge %s",
        (2, 3, 4, 5, 6, 7, 22, 24), (11, 12, 13, 14, 15, 17, 18, 20, 24),
        (2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 17, 18, 20, 22, 24),
        (5, 6, 7, 22, 24), (11, 13, 14, 15, 18, 20, 24), (5, 6, 7, 11, 13, 14, 15, 18, 20, 22, 24),
    )  # fmt: skip
    world.value_time(
        "%s ge %s",
        (0, 1, 2, 21, 23), (8, 9, 23), (0, 1, 2, 8, 9, 21, 23),
        (0, 1, 2, 21, 23), (8, 9, 10, 11, 17, 19, 23), (0, 1, 2, 8, 9, 10, 11, 17, 19, 21, 23),
    )  # fmt: skip
    world.check_datastreams(
        "{} ge %s", D0, D0, NONE, NONE, NONE, NONE, D0, D0, NONE, D0, NONE, NONE
    )


def test_05_eq(world):
    world.time_value("%s eq %s", (2,), NONE, (2,), NONE, (11,), (11,))
    world.value_time("%s eq %s", (2,), NONE, (2,), NONE, (11,), (11,))
    world.check_datastreams(
        "{} eq %s", NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, D0, NONE, NONE
    )


def test_06_before(world):
    world.time_value(
        "before(%s,%s)",
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
    )  # fmt: skip
    world.value_time(
        "before(%s,%s)",
        (3, 4, 5, 6, 7, 22, 24), (12, 13, 14, 15, 20, 24), (3, 4, 5, 6, 7, 12, 13, 14, 15, 20, 22, 24),
        (5, 6, 7, 22, 24), (14, 15, 24), (5, 6, 7, 14, 15, 22, 24),
    )  # fmt: skip
    world.check_datastreams(
        "before({}, %s)", NONE, NONE, NONE, D0, D0, NONE, NONE, NONE, NONE, NONE, NONE, D0
    )


def test_07_after(world):
    world.time_value(
        "after(%s,%s)",
        (3, 4, 5, 6, 7, 22, 24), (12, 13, 14, 15, 20, 24), (3, 4, 5, 6, 7, 12, 13, 14, 15, 20, 22, 24),
        (5, 6, 7, 22, 24), (14, 15, 24), (5, 6, 7, 14, 15, 22, 24),
    )  # fmt: skip
    world.value_time(
        "after(%s,%s)",
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
        (0, 1, 21, 23), (8, 9, 23), (0, 1, 8, 9, 21, 23),
    )  # fmt: skip
    world.check_datastreams(
        "after({}, %s)", D0, NONE, NONE, NONE, NONE, NONE, D0, NONE, NONE, NONE, NONE, NONE
    )


def test_08_meets(world):
    for tpl in ("meets(%s,%s)",):
        world.time_value(
            tpl, (2,), (9, 11, 17, 18), (2, 9, 11, 17, 18), (2, 5), (9, 14), (2, 5, 9, 14)
        )
        world.value_time(
            tpl, (2,), (9, 11, 17, 18), (2, 9, 11, 17, 18), (2, 5), (9, 14), (2, 5, 9, 14)
        )
    world.check_datastreams(
        "meets({}, %s)", NONE, D0, NONE, D0, NONE, NONE, D0, NONE, NONE, NONE, NONE, D0
    )


def test_09_during(world):
    for flt in (
        f"during(resultTime,{T700})",
        f"during(validTime,{T700})",
        f"during(phenomenonTime,{T700})",
        f"during({T700},resultTime)",
        f"during({I700_800},resultTime)",
    ):
        answer = world.sta.get(f"Observations?$filter={quote(flt)}")
        assert answer.status == 400, (flt, answer.status, answer.text[:300])
    world.check(f"during(resultTime,{I700_800})", 2, 3, 4)
    world.check(f"during(validTime,{I700_800})", 11, 12, 17, 20)
    world.check(f"during(phenomenonTime,{I700_800})", 2, 3, 4, 11, 12, 17, 20)
    world.check(f"during({T700},validTime)", 10, 11, 16, 17, 18, 19)
    world.check(f"during({T700},phenomenonTime)", 10, 11, 16, 17, 18, 19)
    world.check(f"during({I700_800},validTime)", 11, 16, 18, 19)
    world.check(f"during({I700_800},phenomenonTime)", 11, 16, 18, 19)
    world.check_datastreams(
        "during({}, %s)", None, None, None, None, None, NONE, NONE, D0, D0, D0, D0, NONE
    )


def test_10_overlaps(world):
    expected = (
        (2,),
        (10, 11, 16, 17, 18, 19),
        (2, 10, 11, 16, 17, 18, 19),
        (2, 3, 4),
        (10, 11, 12, 13, 16, 17, 18, 19, 20),
        (2, 3, 4, 10, 11, 12, 13, 16, 17, 18, 19, 20),
    )
    world.time_value("overlaps(%s,%s)", *expected)
    world.value_time("overlaps(%s,%s)", *expected)
    world.check_datastreams(
        "overlaps({}, %s)", NONE, D0, D0, NONE, NONE, D0, NONE, D0, D0, D0, D0, NONE
    )


def test_11_starts(world):
    expected = ((2,), (11, 17, 18), (2, 11, 17, 18), (2,), (11, 17, 18), (2, 11, 17, 18))
    world.time_value("starts(%s,%s)", *expected)
    world.value_time("starts(%s,%s)", *expected)
    world.check_datastreams(
        "starts({}, %s)", NONE, D0, NONE, NONE, NONE, NONE, NONE, NONE, NONE, D0, D0, NONE
    )


def test_12_finishes(world):
    expected = ((2,), (9,), (2, 9), (5,), (11, 19, 20), (5, 11, 19, 20))
    world.time_value("finishes(%s,%s)", *expected)
    world.value_time("finishes(%s,%s)", *expected)
    world.check_datastreams(
        "finishes({}, %s)", NONE, NONE, NONE, D0, NONE, NONE, NONE, D0, NONE, D0, NONE, NONE
    )


def test_13_year(world):
    world.check("year(resultTime) eq 2015", 21, 23)
    world.check("year(validTime) eq 2015", 23)
    world.check("year(phenomenonTime) eq 2015", 21, 23)


def test_14_durations(world):
    world.check(f"resultTime add duration'PT1H' gt {T900}", 6, 7, 22, 24)
    world.check(f"validTime add duration'PT1H' gt {T900}", 15, 24)
    world.check(f"phenomenonTime add duration'PT1H' gt {T900}", 6, 7, 15, 22, 24)
    world.check(f"resultTime gt {T900} sub duration'PT1H'", 6, 7, 22, 24)
    world.check(f"validTime gt {T900} sub duration'PT1H'", 15, 24)
    world.check(f"phenomenonTime gt {T900} sub duration'PT1H'", 6, 7, 15, 22, 24)
    world.check(f"resultTime sub duration'PT1H' gt {T700}", 6, 7, 22, 24)
    world.check(f"validTime sub duration'PT1H' gt {T700}", 15, 24)
    world.check(f"phenomenonTime sub duration'PT1H' gt {T700}", 6, 7, 15, 22, 24)
    world.check(f"resultTime lt {I600_700} add duration'PT1H'", 0, 1, 21, 23)
    world.check(f"validTime lt {I600_700} add duration'PT1H'", 8, 9, 23)
    world.check(f"phenomenonTime lt {I600_700} add duration'PT1H'", 0, 1, 8, 9, 21, 23)
    world.check(f"resultTime gt {I800_900} sub duration'PT1H'", 5, 6, 7, 22, 24)
    world.check(f"validTime gt {I800_900} sub duration'PT1H'", 14, 15, 24)
    world.check(f"phenomenonTime gt {I800_900} sub duration'PT1H'", 5, 6, 7, 14, 15, 22, 24)
    world.check(f"phenomenonTime sub {T800} eq duration'PT1H'", 7)


def test_15_alternative_overlaps(world):
    world.check(f"not resultTime lt {T700} and not resultTime ge {T800}", 2, 3, 4)
    world.check(
        f"not validTime lt {T700} and not validTime ge {T800}",
        10, 11, 12, 13, 16, 17, 18, 19, 20,
    )  # fmt: skip
    world.check(
        f"not phenomenonTime lt {T700} and not phenomenonTime ge {T800}",
        2, 3, 4, 10, 11, 12, 13, 16, 17, 18, 19, 20,
    )  # fmt: skip


def test_19_phenomenon_time_after_delete(world):
    sta = world.sta
    for observation in world.observations:
        assert sta.delete(f"Observations({observation})").status == 200
    for datastream in world.datastreams:
        assert sta.get(f"Datastreams({datastream})").body["phenomenonTime"] is None
