"""Create, update, delete (OGC 18-088 section 10; ets-sta10 Capability2Tests and
FROST-Server's Capability2Tests, AdditionalTests, ResultTypesTests, JsonPatchTests)."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

import pytest

from tests.sensorthings.conformance_client import (
    MEASUREMENT,
    POINT,
    RELATIONS,
    UNIT,
    alice,
    charlie,
    demo,
    same_instant,
    thing_body,
)

SENSOR = {
    "name": "Fuguro Barometer",
    "description": "Fuguro Barometer",
    "encodingType": "application/pdf",
    "metadata": "Barometer",
}
OBSERVED_PROPERTY = {
    "name": "DewPoint Temperature",
    "definition": "http://dbpedia.org/page/Dew_point",
    "description": "The dewpoint temperature",
}


def _counts(sta) -> dict[str, int]:
    return {s: sta.get(s, **{"$count": "true", "$top": "0"}).body["@iot.count"] for s in RELATIONS}


def test_every_entity_is_created_alone_and_linked_by_id(alice):
    thing = alice.create(
        "Things", {"name": "Test Thing", "description": "From the conformance test"}
    )
    location = alice.create(
        "Locations",
        {
            "name": "bow river",
            "description": "bow river",
            "encodingType": "application/vnd.geo+json",
            "location": POINT,
            "Things": [{"@iot.id": thing}],
        },
    )
    sensor = alice.create("Sensors", SENSOR)
    observed_property = alice.create("ObservedProperties", OBSERVED_PROPERTY)
    datastream = alice.create(
        "Datastreams",
        {
            "name": "dew point",
            "description": "dew point",
            "unitOfMeasurement": UNIT,
            "observationType": MEASUREMENT,
            "Thing": {"@iot.id": thing},
            "Sensor": {"@iot.id": sensor},
            "ObservedProperty": {"@iot.id": observed_property},
        },
    )
    feature = alice.create(
        "FeaturesOfInterest",
        {
            "name": "A weather station.",
            "description": "A weather station.",
            "encodingType": "application/vnd.geo+json",
            "feature": POINT,
        },
    )
    observation = alice.create(
        "Observations",
        {
            "phenomenonTime": "2015-03-01T00:40:00.000Z",
            "result": 8,
            "Datastream": {"@iot.id": datastream},
            "FeatureOfInterest": {"@iot.id": feature},
        },
    )
    created = alice.get(
        f"Observations({observation})", **{"$expand": "Datastream($expand=Thing),FeatureOfInterest"}
    )
    assert created.status == 200
    assert created.body["Datastream"]["Thing"]["@iot.id"] == thing
    assert created.body["FeatureOfInterest"]["@iot.id"] == feature
    assert created.body["result"] == 8
    assert alice.get(f"Things({thing})/Locations").value[0]["@iot.id"] == location
    # linking the Location made a HistoricalLocation
    history = alice.get(f"Things({thing})/HistoricalLocations", **{"$expand": "Locations"}).value
    assert [h["Locations"][0]["@iot.id"] for h in history] == [location]


def test_post_answers_201_with_the_location_header_and_the_entity(alice):
    answer = alice.post("Sensors", SENSOR)
    assert answer.status == 201
    assert answer.location == f"http://testserver/sta/v1.1/Sensors({answer.new_id})"
    assert answer.body["@iot.id"] == answer.new_id
    assert answer.body["name"] == SENSOR["name"]


def test_a_post_to_a_navigation_path_links_the_new_entity_to_its_parent(alice):
    thing = alice.create("Things", thing_body("Parent station"))
    datastream = alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    observation = alice.create(
        f"Datastreams({datastream})/Observations",
        {"phenomenonTime": "2025-01-01T00:00:00Z", "result": 1},
    )
    assert alice.get(f"Observations({observation})/Datastream").body["@iot.id"] == datastream
    location = alice.create(
        f"Things({thing})/Locations",
        {
            "name": "new place",
            "description": "",
            "encodingType": "application/geo+json",
            "location": POINT,
        },
    )
    assert location in [loc["@iot.id"] for loc in alice.get(f"Things({thing})/Locations").value]


def test_a_deep_insert_creates_everything_and_links_it(alice):
    thing = alice.create("Things", thing_body("Deep station", observations=2))
    expanded = alice.get(
        f"Things({thing})",
        **{
            "$expand": "Locations,HistoricalLocations,"
            "Datastreams($expand=Sensor,ObservedProperty,Observations)"
        },
    ).body
    assert expanded["properties"] == {"owner": "conformance", "floor": 3, "tags": ["roof", "test"]}
    assert expanded["Locations"][0]["location"] == POINT
    assert len(expanded["HistoricalLocations"]) == 1
    stream = expanded["Datastreams"][0]
    assert stream["unitOfMeasurement"] == UNIT
    assert stream["Sensor"]["name"] == "Deep station thermometer"
    assert stream["ObservedProperty"]["definition"] == "http://dbpedia.org/page/Temperature"
    assert sorted(o["result"] for o in stream["Observations"]) == [20, 21]


INVALID_CREATES = [
    # a Datastream without Sensor, without ObservedProperty, without Thing
    (
        "Datastreams",
        {
            "name": "d",
            "description": "d",
            "unitOfMeasurement": UNIT,
            "observationType": MEASUREMENT,
            "ObservedProperty": OBSERVED_PROPERTY,
            "Thing": {"name": "t", "description": "t"},
        },
    ),
    (
        "Datastreams",
        {
            "name": "d",
            "description": "d",
            "unitOfMeasurement": UNIT,
            "observationType": MEASUREMENT,
            "Sensor": SENSOR,
            "Thing": {"name": "t", "description": "t"},
        },
    ),
    (
        "Datastreams",
        {
            "name": "d",
            "description": "d",
            "unitOfMeasurement": UNIT,
            "observationType": MEASUREMENT,
            "Sensor": SENSOR,
            "ObservedProperty": OBSERVED_PROPERTY,
        },
    ),
    # an Observation without Datastream
    ("Observations", {"phenomenonTime": "2015-03-01T00:00:00Z", "result": 100}),
    # a Thing whose second Datastream lacks its Sensor: nothing of it may stay
    (
        "Things",
        {
            "name": "Office Building",
            "description": "Office Building",
            "Locations": [
                {
                    "name": "West Roof",
                    "description": "West Roof",
                    "location": POINT,
                    "encodingType": "application/vnd.geo+json",
                }
            ],
            "Datastreams": [
                {
                    "name": "ok",
                    "description": "ok",
                    "unitOfMeasurement": UNIT,
                    "observationType": MEASUREMENT,
                    "Sensor": SENSOR,
                    "ObservedProperty": OBSERVED_PROPERTY,
                },
                {
                    "name": "bad",
                    "description": "bad",
                    "unitOfMeasurement": UNIT,
                    "observationType": MEASUREMENT,
                    "ObservedProperty": OBSERVED_PROPERTY,
                },
            ],
        },
    ),
    # a link to an id that does not exist
    (
        "Observations",
        {
            "phenomenonTime": "2015-03-01T00:00:00Z",
            "result": 1,
            "Datastream": {"@iot.id": 987654321},
        },
    ),
    # malformed
    ("Things", "{not json"),
    ("Things", ["a", "list"]),
    ("Things", {"name": 12, "description": "a number is no name"}),
    ("Observations", {"phenomenonTime": "yesterday", "result": 1}),
    (
        "Locations",
        {
            "name": "l",
            "description": "l",
            "encodingType": "application/geo+json",
            "location": {"type": "Pointless"},
        },
    ),
]


def test_an_invalid_create_is_400_or_409_and_creates_nothing(alice):
    before = _counts(alice)
    wrong = []
    for entity_set, body in INVALID_CREATES:
        answer = alice.post(entity_set, body)
        if answer.status not in (400, 409) or not (answer.body or {}).get("message"):
            wrong.append((entity_set, str(body)[:80], answer.status, answer.text[:200]))
    assert wrong == []
    assert _counts(alice) == before


def test_patch_changes_only_what_it_names_and_put_replaces(alice):
    thing = alice.create("Things", thing_body("Patch station"))
    before = alice.get(f"Things({thing})").body
    answer = alice.patch(f"Things({thing})", {"description": "patched", "properties": {"x": 1}})
    assert answer.status == 200, answer.text[:300]
    after = alice.get(f"Things({thing})").body
    assert after["description"] == "patched"
    assert after["properties"] == {"x": 1}
    assert after["name"] == before["name"]
    datastream = alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    answer = alice.put(
        f"Datastreams({datastream})",
        {
            "name": "Data coming from sensor on ISS.",
            "description": "Data coming from sensor on ISS.",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation",
            "unitOfMeasurement": {
                "name": "Entropy",
                "symbol": "S",
                "definition": "http://qudt.org/vocab/unit#Entropy",
            },
        },
    )
    assert answer.status == 200, answer.text[:300]
    stream = alice.get(f"Datastreams({datastream})").body
    assert stream["unitOfMeasurement"]["name"] == "Entropy"
    assert stream["name"] == "Data coming from sensor on ISS."
    # relations untouched by a PUT without them
    assert alice.get(f"Datastreams({datastream})/Thing").body["@iot.id"] == thing


def test_an_observation_is_updated_to_a_string_result_and_keeps_its_result_time(alice):
    thing = alice.create("Things", thing_body("Update station", observations=1))
    observation = alice.get(f"Things({thing})/Datastreams").value[0]
    observation = alice.get(f"Datastreams({observation['@iot.id']})/Observations").value[0][
        "@iot.id"
    ]
    answer = alice.put(
        f"Observations({observation})",
        {"result": "99", "phenomenonTime": "2015-08-01T00:40:00.000Z"},
    )
    assert answer.status == 200, answer.text[:300]
    updated = alice.get(f"Observations({observation})")
    if updated.status == 404:
        # the id may follow the phenomenonTime (ids.py); the Location header says where it went
        updated = alice.get(answer.location or f"Observations({observation})")
    assert updated.body["result"] == "99"
    assert same_instant(updated.body["phenomenonTime"], "2015-08-01T00:40:00Z")
    assert updated.body["resultTime"] is None


INLINE_PATCHES = [
    (
        "Things",
        {
            "Locations": [
                {
                    "name": "West Roof",
                    "description": "W",
                    "location": POINT,
                    "encodingType": "application/vnd.geo+json",
                }
            ]
        },
    ),
    ("Things", {"Datastreams": [{"unitOfMeasurement": UNIT}]}),
    ("Datastreams", {"Sensor": SENSOR}),
    ("Datastreams", {"ObservedProperty": OBSERVED_PROPERTY}),
    ("Datastreams", {"Thing": {"name": "test", "description": "test"}}),
    (
        "Datastreams",
        {"Observations": [{"phenomenonTime": "2015-03-01T00:00:00Z", "result": 1}]},
    ),
    ("Things", {"name": None}),
    ("Things", "[1, 2]"),
]


def test_a_patch_with_inline_related_entities_is_400(alice):
    thing = alice.create("Things", thing_body("Inline station"))
    datastream = alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    wrong = []
    for entity_set, body in INLINE_PATCHES:
        target = thing if entity_set == "Things" else datastream
        before = alice.get(f"{entity_set}({target})").body
        answer = alice.patch(f"{entity_set}({target})", body)
        if answer.status != 400 or alice.get(f"{entity_set}({target})").body != before:
            wrong.append((entity_set, str(body)[:80], answer.status, answer.text[:200]))
    assert wrong == []


def test_patching_a_things_locations_by_id_writes_a_historical_location(alice):
    thing = alice.create("Things", thing_body("Moving station"))
    new = alice.create(
        "Locations",
        {
            "name": "new place",
            "description": "d",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [10.0, 50.0]},
        },
    )
    answer = alice.patch(f"Things({thing})", {"Locations": [{"@iot.id": new}]})
    assert answer.status == 200, answer.text[:300]
    assert [loc["@iot.id"] for loc in alice.get(f"Things({thing})/Locations").value] == [new]
    history = alice.get(
        f"Things({thing})/HistoricalLocations", **{"$orderby": "time desc", "$expand": "Locations"}
    ).value
    assert len(history) == 2
    assert history[0]["Locations"][0]["@iot.id"] == new


def test_a_json_patch_applies_its_operations(alice):
    thing = alice.create("Things", thing_body("Json patch station"))
    operations = [
        {"op": "add", "path": "/properties/colour", "value": "green"},
        {"op": "replace", "path": "/description", "value": "json-patched"},
        {"op": "remove", "path": "/properties/floor"},
    ]
    answer = alice.patch(f"Things({thing})", operations, content_type="application/json-patch+json")
    assert answer.status == 200, answer.text[:300]
    after = alice.get(f"Things({thing})").body
    assert after["description"] == "json-patched"
    assert after["properties"]["colour"] == "green"
    assert "floor" not in after["properties"]
    bad = alice.patch(
        f"Things({thing})",
        [{"op": "test", "path": "/name", "value": "other"}],
        content_type="application/json-patch+json",
    )
    assert bad.status in (400, 409)


def test_delete_answers_200_then_404_and_a_missing_entity_is_404(alice):
    sensor = alice.create("Sensors", SENSOR)
    assert alice.delete(f"Sensors({sensor})").status == 200
    assert alice.get(f"Sensors({sensor})").status == 404
    for entity_set in RELATIONS:
        assert alice.delete(f"{entity_set}(987654321)").status == 404, entity_set


def _family(alice):
    thing = alice.create("Things", thing_body("Family", observations=2))
    tree = alice.get(
        f"Things({thing})",
        **{
            "$expand": "Locations,HistoricalLocations,Datastreams($expand=Sensor,"
            "ObservedProperty,Observations($expand=FeatureOfInterest))"
        },
    ).body
    stream = tree["Datastreams"][0]
    return {
        "Things": thing,
        "Locations": tree["Locations"][0]["@iot.id"],
        "HistoricalLocations": tree["HistoricalLocations"][0]["@iot.id"],
        "Datastreams": stream["@iot.id"],
        "Sensors": stream["Sensor"]["@iot.id"],
        "ObservedProperties": stream["ObservedProperty"]["@iot.id"],
        "Observations": stream["Observations"][0]["@iot.id"],
        "FeaturesOfInterest": stream["Observations"][0]["FeatureOfInterest"]["@iot.id"],
    }


#: What a DELETE takes with it (FROST's checkDeleteIntegrityConstraint).
CASCADES = {
    "Things": {"Datastreams", "HistoricalLocations", "Observations"},
    "Datastreams": {"Observations"},
    "Locations": {"HistoricalLocations"},
    "HistoricalLocations": set(),
    "Sensors": {"Datastreams", "Observations"},
    "ObservedProperties": {"Datastreams", "Observations"},
    "FeaturesOfInterest": {"Observations"},
    "Observations": set(),
}


@pytest.mark.parametrize("deleted", list(CASCADES))
def test_delete_cascades_as_the_specification_says(alice, deleted):
    family = _family(alice)
    assert alice.delete(f"{deleted}({family[deleted]})").status == 200
    for entity_set, key in family.items():
        gone = entity_set == deleted or entity_set in CASCADES[deleted]
        status = alice.get(f"{entity_set}({key})").status
        assert status == (404 if gone else 200), (deleted, entity_set, status)


def test_a_feature_of_interest_is_generated_from_the_things_location_and_reused(alice):
    thing = alice.create("Things", thing_body("Feature station"))
    datastream = alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    first = alice.create(
        "Observations",
        {
            "phenomenonTime": "2025-01-01T00:00:00Z",
            "result": 1,
            "Datastream": {"@iot.id": datastream},
        },
    )
    second = alice.create(
        "Observations",
        {
            "phenomenonTime": "2025-01-01T00:01:00Z",
            "result": 2,
            "Datastream": {"@iot.id": datastream},
        },
    )
    feature = alice.get(f"Observations({first})/FeatureOfInterest")
    assert feature.status == 200
    assert feature.body["feature"] == POINT
    assert (
        alice.get(f"Observations({second})/FeatureOfInterest").body["@iot.id"]
        == feature.body["@iot.id"]
    )


RESULTS = [
    0,
    42,
    -7,
    3.25,
    1e-9,
    2**53,
    "a string",
    "",
    "42",
    True,
    False,
    {"a": 1, "b": [1, 2, {"c": None}]},
    [1, "two", 3.5, None],
    [],
    {},
    None,
]


def test_every_json_result_type_round_trips_with_every_observation_field(alice):
    thing = alice.create("Things", thing_body("Result station"))
    datastream = alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    created = {}
    for i, result in enumerate(RESULTS):
        body = {
            "phenomenonTime": f"2024-01-01T00:{i:02d}:00Z/2024-01-01T00:{i:02d}:30Z",
            "resultTime": f"2024-01-01T01:{i:02d}:00Z",
            "validTime": "2024-01-01T00:00:00Z/2024-12-31T00:00:00Z",
            "result": result,
            "parameters": {"i": i, "nested": {"ok": True}},
            "resultQuality": ["good", {"sigma": 0.1}],
            "Datastream": {"@iot.id": datastream},
        }
        created[alice.create("Observations", body)] = body
    for key, body in created.items():
        observation = alice.get(f"Observations({key})").body
        assert observation["result"] == body["result"]
        assert type(observation["result"]) is type(body["result"]), body["result"]
        for name in ("phenomenonTime", "validTime"):
            start, end = observation[name].split("/")
            expected_start, expected_end = body[name].split("/")
            assert same_instant(start, expected_start) and same_instant(end, expected_end)
        assert same_instant(observation["resultTime"], body["resultTime"])
        assert observation["parameters"] == body["parameters"]
        assert observation["resultQuality"] == body["resultQuality"]


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("result eq 'a string'", ["a string"]),
        # a string literal matches the number too, as FROST does (JsonPropertiesTests)
        ("result eq '42'", [42, "42"]),
        ("result eq 42", [42]),
        ("result gt 40", [42, 2**53]),
        ("result eq true", [True]),
        ("result eq false", [False]),
        ("result eq null", [None]),
        ("result/a eq 1", [{"a": 1, "b": [1, 2, {"c": None}]}]),
        ("parameters/i eq 3", [3.25]),
    ],
)
def test_results_of_every_type_are_filtered_by_type(alice, expression, expected):
    thing = alice.create("Things", thing_body("Filter result station"))
    datastream = alice.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    for i, result in enumerate(RESULTS):
        alice.create(
            "Observations",
            {
                "phenomenonTime": f"2024-01-01T00:{i:02d}:00Z",
                "result": result,
                "parameters": {"i": i},
                "Datastream": {"@iot.id": datastream},
            },
        )
    answer = alice.get(
        f"Datastreams({datastream})/Observations",
        **{"$filter": expression, "$orderby": "phenomenonTime"},
    )
    assert answer.status == 200, (expression, answer.text[:300])
    assert [o["result"] for o in answer.value] == expected, expression


#: FROST-Server's Capability2Tests.deleteEverything(): the order it empties the sets in.
DELETE_ORDER = [
    "Things",
    "Sensors",
    "ObservedProperties",
    "FeaturesOfInterest",
    "Observations",
    "Datastreams",
    "HistoricalLocations",
    "Locations",
]


def test_a_writer_can_empty_every_collection_as_frosts_suites_clean_up(alice, charlie):
    """The CUD suites start and end by deleting every entity they can list, one by one
    (each DELETE must be 200, then GET 404), until every set is empty; they then assert
    that sets are empty. So a writer may delete all she lists; her lists end up empty,
    and the other organization keeps its entities."""
    alice.create("Things", thing_body("Doomed station", observations=2))
    theirs = charlie.create("Things", thing_body("Harbour station", observations=1))
    for entity_set in DELETE_ORDER:
        for _ in range(20):
            listed = alice.get(entity_set).value
            if not listed:
                break
            for entity in listed:
                key = f"{entity_set}({entity['@iot.id']})"
                answer = alice.delete(key)
                assert answer.status == 200, (key, answer.status, answer.text[:200])
                assert alice.get(key).status == 404, key
        assert alice.get(entity_set).value == [], entity_set
    for entity_set in RELATIONS:
        assert alice.get(entity_set, **{"$count": "true"}).body["@iot.count"] == 0, entity_set
    assert charlie.get(f"Things({theirs})").status == 200
