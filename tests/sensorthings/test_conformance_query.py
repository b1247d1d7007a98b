"""Query options (OGC 18-088 section 9.3; ets-sta10 Capability3Tests and FROST-Server's
FilterTests, DateTimeTests, JsonPropertiesTests, GeoTests): $select, $expand, $top,
$skip, $count, $orderby, $filter with its operators and functions, paging."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

import pytest

from tests.sensorthings.conformance_client import (
    alice,
    demo,
    thing_body,
)


@pytest.fixture
def world(alice):
    """Two Things of alice: 'North' (10 Observations 20…29, one a minute from
    2025-03-01T00:00Z) and 'South' (3 Observations), with different properties."""
    north = alice.create(
        "Things",
        thing_body(
            "North",
            observations=10,
            properties={"owner": "ann", "floor": 3, "tags": ["roof"], "nested": {"depth": 2}},
        ),
    )
    south = alice.create(
        "Things",
        thing_body(
            "South", observations=3, properties={"owner": "bo", "floor": 1, "nested": {"depth": 5}}
        ),
    )
    streams = {
        name: alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
        for name, thing in (("North", north), ("South", south))
    }
    return alice, north, south, streams


def _results(sta, url, **params):
    return [o["result"] for o in sta.get(url, **params).value]


def test_select_returns_only_the_selected_properties(world):
    sta, north, *_ = world
    entity = sta.get(f"Things({north})", **{"$select": "name,description"}).body
    assert set(entity) - {"@iot.id", "@iot.selfLink"} == {"name", "description"}
    only_id = sta.get("Things", **{"$select": "id"}).value
    assert all(set(e) == {"@iot.id"} for e in only_id)
    with_nav = sta.get(f"Things({north})", **{"$select": "name,Datastreams"}).body
    assert "Datastreams@iot.navigationLink" in with_nav
    assert "Locations@iot.navigationLink" not in with_nav


def test_expand_inlines_related_entities_nested_with_their_own_options(world):
    sta, north, _, streams = world
    thing = sta.get(f"Things({north})", **{"$expand": "Datastreams/Observations,Locations"}).body
    assert len(thing["Locations"]) == 1
    assert len(thing["Datastreams"][0]["Observations"]) == 10
    nested = sta.get(
        f"Things({north})",
        **{
            "$expand": "Datastreams($select=name;$expand=Observations($filter=result gt 25;"
            "$orderby=result desc;$top=2;$count=true))"
        },
    ).body
    stream = nested["Datastreams"][0]
    assert "name" in stream and "description" not in stream
    assert "Thing@iot.navigationLink" not in stream
    assert [o["result"] for o in stream["Observations"]] == [29, 28]
    assert stream["Observations@iot.count"] == 4
    to_one = sta.get(
        f"Datastreams({streams['North']})", **{"$expand": "Thing,Sensor,ObservedProperty"}
    ).body
    assert to_one["Thing"]["@iot.id"] == north
    assert to_one["Sensor"]["name"] == "North thermometer"


def test_top_skip_count_and_a_stable_count_across_pages(world):
    sta, _, _, streams = world
    url = f"Datastreams({streams['North']})/Observations"
    first = sta.get(url, **{"$top": "3", "$count": "true", "$orderby": "phenomenonTime"})
    assert first.body["@iot.count"] == 10
    assert [o["result"] for o in first.value] == [20, 21, 22]
    results, answer, counts = [], first, set()
    while True:
        results += [o["result"] for o in answer.value]
        counts.add(answer.body["@iot.count"])
        if "@iot.nextLink" not in answer.body:
            break
        link = answer.body["@iot.nextLink"]
        assert link.startswith("http://testserver/sta/v1.1/")
        answer = sta.get(link)
    assert results == list(range(20, 30))
    assert counts == {10}
    assert _results(sta, url, **{"$orderby": "phenomenonTime", "$skip": "8"}) == [28, 29]
    assert "@iot.count" not in sta.get(url, **{"$count": "false"}).body


def test_orderby_is_case_insensitive_and_multi_key(world):
    sta, _, _, streams = world
    url = f"Datastreams({streams['North']})/Observations"
    assert _results(sta, url, **{"$orderby": "result DESC", "$top": "3"}) == [29, 28, 27]
    assert _results(sta, url, **{"$orderby": "result asc", "$top": "2"}) == [20, 21]
    names = [t["name"] for t in sta.get("Things", **{"$orderby": "name desc,id asc"}).value]
    assert names.index("South") < names.index("North")


OBSERVATION_FILTERS = [
    ("result eq 25", [25]),
    ("result ne 20 and result lt 23", [21, 22]),
    ("result gt 27", [28, 29]),
    ("result ge 28", [28, 29]),
    ("result le 21", [20, 21]),
    ("not (result lt 28)", [28, 29]),
    ("result lt 21 or result gt 28", [20, 29]),
    ("result add 1 eq 22", [21]),
    ("result sub 1 eq 22", [23]),
    ("result mul 2 eq 50", [25]),
    ("(result mul 1.0) div 4 eq 5.5", [22]),
    ("result mod 10 eq 3", [23]),
    ("round(result mul 1.4) eq 35", [25]),
    ("floor(result mul 0.1) eq 2", list(range(20, 30))),
    ("ceiling(result mul 0.1) eq 3", list(range(21, 30))),
    ("phenomenonTime gt 2025-03-01T00:07:00Z", [28, 29]),
    ("phenomenonTime eq 2025-03-01T00:03:00.000Z", [23]),
    ("minute(phenomenonTime) eq 4", [24]),
    (
        "year(phenomenonTime) eq 2025 and month(phenomenonTime) eq 3 and "
        "day(phenomenonTime) eq 1 and hour(phenomenonTime) eq 0 and "
        "second(phenomenonTime) eq 0 and result eq 20",
        [20],
    ),
    ("date(phenomenonTime) eq date(2025-03-01T10:00:00Z) and result lt 21", [20]),
    ("phenomenonTime lt now() and result eq 29", [29]),
    ("Datastream/Thing/name eq 'North' and result lt 22", [20, 21]),
    ("Datastream/Thing/properties/owner eq 'ann' and result lt 21", [20]),
]


def _failures(sta, url, cases, key):
    """Each ``(expression, expected)`` of ``cases`` as a $filter on ``url``: the ones whose
    answer differs, with what came back (one test, one database, every case reported)."""
    failures = []
    for expression, expected in cases:
        answer = sta.get(url, **{"$filter": expression, "$orderby": key})
        if answer.status != 200:
            failures.append((expression, answer.status, answer.text[:200]))
            continue
        got = [entity[key] for entity in answer.value]
        if key == "name":
            got = [name for name in got if name in ("North", "South")]  # the demo's Things too
        if got != expected:
            failures.append((expression, expected, got))
    return failures


def test_filter_operators_and_functions_on_observations(world):
    sta, _, _, streams = world
    url = f"Datastreams({streams['North']})/Observations"
    assert _failures(sta, url, OBSERVATION_FILTERS, "result") == []


THING_FILTERS = [
    ("name eq 'North'", ["North"]),
    ("substringof('out', name)", ["South"]),
    ("startswith(name, 'So')", ["South"]),
    ("endswith(name, 'th')", ["North", "South"]),
    ("length(name) eq 5", ["North", "South"]),
    ("indexof(name, 'r') eq 2", ["North"]),
    ("substring(name, 1) eq 'outh'", ["South"]),
    ("substring(name, 1, 2) eq 'or'", ["North"]),
    ("tolower(name) eq 'north'", ["North"]),
    ("toupper(name) eq 'SOUTH'", ["South"]),
    ("trim(concat(' ', name)) eq 'North'", ["North"]),
    ("concat(concat(name, '-'), 'x') eq 'South-x'", ["South"]),
    ("properties/owner eq 'bo'", ["South"]),
    ("properties/floor gt 2", ["North"]),
    ("properties/nested/depth eq 5", ["South"]),
    ("Datastreams/Observations/result eq 29", ["North"]),
    ("Locations/name eq 'South location'", ["South"]),
    (
        "geo.intersects(Locations/location, "
        "geography'POLYGON((11 48, 12 48, 12 49, 11 49, 11 48))')",
        ["North", "South"],
    ),
    ("st_within(Locations/location, geography'POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))')", []),
    (
        "geo.distance(Locations/location, geography'POINT(11.5761 48.1351)') lt 0.01",
        ["North", "South"],
    ),
]


def test_filter_string_json_navigation_and_geo_functions_on_things(world):
    sta, *_ = world
    assert _failures(sta, "Things", THING_FILTERS, "name") == []


MALFORMED = [
    {"$filter": "name eq"},
    {"$filter": "name eq 'unterminated"},
    {"$filter": "nosuchproperty eq 1"},
    {"$filter": "nosuchfunction(name) eq 1"},
    {"$orderby": "name sideways"},
    {"$orderby": "nosuchproperty"},
    {"$top": "-1"},
    {"$top": "many"},
    {"$skip": "-3"},
    {"$count": "maybe"},
    {"$select": "nosuchproperty"},
    {"$expand": "Nowhere"},
    {"$expand": "Datastreams($top=x)"},
    {"$expand": "Datastreams("},
]


def test_a_malformed_query_option_is_400_with_a_message(world):
    sta, *_ = world
    wrong = []
    for options in MALFORMED:
        answer = sta.get("Things", **options)
        if answer.status != 400 or not (answer.body or {}).get("message"):
            wrong.append((options, answer.status, answer.text[:200]))
    assert wrong == []


def test_an_expanded_collection_pages_with_its_own_next_link(world):
    sta, north, *_ = world
    thing = sta.get(
        f"Things({north})",
        **{"$expand": "Datastreams($expand=Observations($top=4;$orderby=phenomenonTime))"},
    ).body
    stream = thing["Datastreams"][0]
    assert [o["result"] for o in stream["Observations"]] == [20, 21, 22, 23]
    link = stream["Observations@iot.nextLink"]
    rest = sta.all(link)
    assert [o["result"] for o in rest] == list(range(24, 30))


JSON_PROPERTIES = [
    {
        "string": "abcdefgh",
        "boolean": True,
        "int": 8,
        "intArray": [8, 9, 10],
        "intIntArray": [[8, 9], [10, 11]],
        "objArray": [{"string": "abcdef"}, {"boolean": False, "intArray": [8]}],
        "strArray": ["s8", "s10"],
    },
    {
        "string": "bcdefghi",
        "boolean": False,
        "int": 9,
        "intArray": [9, 10, 11],
        "intIntArray": [[9, 10], [11, 12]],
        "objArray": [{"string": "jklmnopqrs"}, {"boolean": True, "intArray": [9]}],
        "strArray": ["s9", "s10"],
    },
    {
        "string": "cdefghij",
        "boolean": True,
        "int": 10,
        "intArray": [10, 11, 12],
        "intIntArray": [[10, 11], [12, 13]],
        "objArray": [{"string": "x"}, {"boolean": False, "intArray": [11]}],
        "strArray": ["s10"],
    },
]

#: FROST-Server's JsonPropertiesTests: JSON paths with array indexes, booleans.
JSON_FILTERS = [
    ("properties/string eq 'cdefghij'", ["J2"]),
    ("substringof('cdefgh', properties/string)", ["J0", "J1", "J2"]),
    ("properties/objArray[0]/string eq 'jklmnopqrs'", ["J1"]),
    ("properties/int gt 8", ["J1", "J2"]),
    ("properties/int eq '9'", ["J1"]),
    ("properties/intArray[1] gt 9", ["J1", "J2"]),
    ("properties/intIntArray[1][0] gt 10", ["J1", "J2"]),
    ("properties/objArray[1]/intArray[0] gt 8", ["J1", "J2"]),
    ("properties/boolean eq true", ["J0", "J2"]),
    ("properties/boolean", ["J0", "J2"]),
    ("not properties/boolean", ["J1"]),
    ("properties/objArray[1]/boolean", ["J1"]),
]


def test_json_properties_by_path_and_filter(alice):
    things = [
        alice.create("Things", {"name": f"J{i}", "description": "json", "properties": properties})
        for i, properties in enumerate(JSON_PROPERTIES)
    ]
    wrong = []
    for path, expected in (
        ("properties/string", {"string": "abcdefgh"}),
        ("properties/intArray[1]", {"intArray[1]": 9}),
        ("properties/intIntArray[0][1]", {"intIntArray[0][1]": 9}),
        ("properties/objArray[0]/string", {"string": "abcdef"}),
    ):
        answer = alice.get(f"Things({things[0]})/{path.replace('[', '%5B').replace(']', '%5D')}")
        if answer.status != 200 or answer.body != expected:
            wrong.append((path, answer.status, answer.text[:200]))
    for expression, expected in JSON_FILTERS:
        answer = alice.get("Things", **{"$filter": expression, "$orderby": "name"})
        if answer.status != 200:
            wrong.append((expression, answer.status, answer.text[:200]))
            continue
        got = [t["name"] for t in answer.value if t["name"] in ("J0", "J1", "J2")]
        if got != expected:
            wrong.append((expression, expected, got))
    assert wrong == [], "\n".join(map(str, wrong))


def test_unit_of_measurement_is_filtered_and_read_by_path(world):
    sta, _, _, streams = world
    answer = sta.get("Datastreams", **{"$filter": "unitOfMeasurement/symbol eq 'degC'"})
    assert streams["North"] in {d["@iot.id"] for d in answer.value}
    symbol = sta.get(f"Datastreams({streams['North']})/unitOfMeasurement/symbol")
    assert symbol.status == 200 and symbol.body == {"symbol": "degC"}


def test_in_operator_on_results(world):
    sta, _, _, streams = world
    url = f"Datastreams({streams['North']})/Observations"
    assert _failures(sta, url, [("result in (21, 23)", [21, 23])], "result") == []


IN_FILTERS = [
    ("properties/int in (8, 9)", ["J0", "J1"]),
    ("9 in properties/intArray", ["J0", "J1"]),
    ("'s10' in properties/strArray", ["J0", "J1", "J2"]),
]


def test_in_operator_on_json_properties(alice):
    for i, properties in enumerate(JSON_PROPERTIES):
        alice.create("Things", {"name": f"J{i}", "description": "json", "properties": properties})
    wrong = []
    for expression, expected in IN_FILTERS:
        answer = alice.get("Things", **{"$filter": expression, "$orderby": "name"})
        got = (
            [t["name"] for t in answer.value if t["name"] in ("J0", "J1", "J2")]
            if answer.status == 200
            else answer.text[:200]
        )
        if got != expected:
            wrong.append((expression, expected, got))
    assert wrong == []
