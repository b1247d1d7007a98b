"""The optional classes the service document declares (OGC 18-088 sections 12 and 14;
FROST-Server's DataArrayTests and BatchTests): dataArray in both directions and JSON
$batch, each tested only as the conformance list promises it."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

import pytest

from tests.sensorthings.conformance_client import (
    HOST,
    POINT,
    ROOT,
    alice,
    charlie,
    demo,
    json_batch,
    json_batch_referencing,
    thing_body,
)

SPEC = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
OBSERVATION_COMPONENTS = {
    "id",
    "phenomenonTime",
    "result",
    "resultTime",
    "resultQuality",
    "validTime",
    "parameters",
}


def _declared(sta, name: str) -> bool:
    return any(
        c.startswith(SPEC + name) for c in sta.get(ROOT + "/").body["serverSettings"]["conformance"]
    )


@pytest.fixture
def streams(alice):
    """FROST's DataArrayTests world: a Thing with a Location, two Datastreams, two
    FeaturesOfInterest and four Observations."""
    thing = alice.create("Things", {"name": "Thing 1", "description": "The first thing."})
    alice.create(
        "Locations",
        {
            "name": "Location 1.0",
            "description": "Location of Thing 1.",
            "encodingType": "application/vnd.geo+json",
            "location": {"type": "Point", "coordinates": [8, 51]},
            "Things": [{"@iot.id": thing}],
        },
    )
    observed_property = alice.create(
        "ObservedProperties",
        {
            "name": "Temperature",
            "definition": "http://dbpedia.org/page/Temperature",
            "description": "t",
        },
    )
    streams = []
    for i in (1, 2):
        sensor = alice.create(
            "Sensors",
            {"name": f"Sensor {i}", "description": "s", "encodingType": "text", "metadata": "m"},
        )
        streams.append(
            alice.create(
                "Datastreams",
                {
                    "name": f"Datastream {i}",
                    "description": "d",
                    "observationType": "someType",
                    "unitOfMeasurement": {
                        "name": "degree celcius",
                        "symbol": "°C",
                        "definition": "ucum:T",
                    },
                    "Thing": {"@iot.id": thing},
                    "Sensor": {"@iot.id": sensor},
                    "ObservedProperty": {"@iot.id": observed_property},
                },
            )
        )
    features = [
        alice.create(
            "FeaturesOfInterest",
            {
                "name": f"Feature {i}",
                "description": "f",
                "encodingType": "application/vnd.geo+json",
                "feature": POINT,
            },
        )
        for i in (1, 2)
    ]
    for day, (stream, feature) in enumerate(
        [
            (streams[0], features[0]),
            (streams[1], features[0]),
            (streams[0], features[1]),
            (streams[1], features[1]),
        ]
    ):
        alice.create(
            "Observations",
            {
                "phenomenonTime": f"2016-01-0{day + 1}T01:01:01.000Z",
                "result": day + 1,
                "Datastream": {"@iot.id": stream},
                "FeatureOfInterest": {"@iot.id": feature},
            },
        )
    return thing, streams, features


def _check_data_array(body: dict, components: set[str], top: int) -> None:
    """FROST's validateGetDataArrayResponse (its nextLink check, where more remain)."""
    assert "@iot.count" in body, list(body)
    assert ("@iot.nextLink" in body) == (body["@iot.count"] > top), list(body)
    for item in body["value"]:
        assert "Datastream@iot.navigationLink" in item
        found = ["id" if c == "@iot.id" else c for c in item["components"]]
        assert len(found) == len(set(found)) and set(found) == components, found
        assert item["dataArray@iot.count"] == len(item["dataArray"])
        assert all(len(row) == len(found) for row in item["dataArray"])


def test_observations_read_as_a_data_array(alice, streams):
    assert _declared(alice, "data-array")
    whole = alice.get(
        "Observations", **{"$count": "true", "$top": "3", "$resultFormat": "dataArray"}
    )
    assert whole.status == 200, whole.text[:300]
    _check_data_array(whole.body, OBSERVATION_COMPONENTS, 3)
    selected = alice.get(
        "Observations",
        **{
            "$count": "true",
            "$top": "4",
            "$resultFormat": "dataArray",
            "$select": "result,phenomenonTime",
            "$orderby": "phenomenonTime desc",
        },
    )
    assert selected.status == 200, selected.text[:300]
    _check_data_array(selected.body, {"result", "phenomenonTime"}, 4)
    rows = [row for item in selected.body["value"] for row in item["dataArray"]]
    assert sorted(
        row[item["components"].index("result")]
        for item in selected.body["value"]
        for row in item["dataArray"]
    ) == [1, 2, 3, 4]
    assert len(rows) == 4


def test_create_observations_answers_a_link_or_an_error_per_row(alice, streams):
    _, (first, second), (feature, _) = streams
    body = [
        {
            "Datastream": {"@iot.id": first},
            "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
            "dataArray@iot.count": 2,
            "dataArray": [
                ["2010-12-23T10:20:00-07:00", 20, feature],
                ["2010-12-23T10:21:00-07:00", 30, "probablyNotAValidId"],
            ],
        },
        {
            "Datastream": {"@iot.id": second},
            "components": ["phenomenonTime", "result"],
            "dataArray@iot.count": 2,
            "dataArray": [["2010-12-23T10:20:00-07:00", 65], ["2010-12-23T10:21:00-07:00", 60]],
        },
    ]
    answer = alice.post("CreateObservations", body)
    assert answer.status == 201, answer.text[:300]
    lines = answer.body
    assert len(lines) == 4 and all(isinstance(line, str) for line in lines)
    assert lines[1].lower().startswith("error")
    created = [alice.get(line) for i, line in enumerate(lines) if i != 1]
    assert [o.status for o in created] == [200, 200, 200]
    assert [o.body["result"] for o in created] == [20, 65, 60]
    assert created[0].body["phenomenonTime"].startswith("2010-12-23T17:20:00")
    assert alice.get(lines[0] + "/FeatureOfInterest").body["@iot.id"] == feature
    # the two rows without a FeatureOfInterest share the one generated from the Location
    generated = {alice.get(line + "/FeatureOfInterest").body["@iot.id"] for line in lines[2:]}
    assert len(generated) == 1


def test_create_observations_into_another_organization_is_an_error_row(alice, charlie, streams):
    _, (first, _), _ = streams
    answer = charlie.post(
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": first},
                "components": ["phenomenonTime", "result"],
                "dataArray": [["2020-01-01T00:00:00Z", 1]],
            }
        ],
    )
    assert answer.status in (201, 400, 404)
    if answer.status == 201:
        assert all(line.lower().startswith("error") for line in answer.body)
    assert (
        alice.get(f"Datastreams({first})/Observations", **{"$count": "true"}).body["@iot.count"]
        == 2
    )


def test_a_json_batch_runs_each_request_and_references_new_entities(alice, streams):
    conformance = alice.get(ROOT + "/").body["serverSettings"]["conformance"]
    # JSON batches as FROST's extension, beside OGC's batch class (OData multipart/mixed,
    # test_frost_batch_multipart.py)
    assert (
        "https://fraunhoferiosb.github.io/FROST-Server/extensions/JsonBatchRequest.html"
        in conformance
    )
    assert _declared(alice, "batch-request")
    thing, _, _ = streams
    observed_property = alice.get("ObservedProperties").value[-1]["@iot.id"]
    answer = alice.post("$batch", json_batch(thing))
    assert answer.status == 200, answer.text[:300]
    responses = {r["id"]: r for r in answer.body["responses"]}
    assert responses["0"]["status"] == 200 and responses["0"]["body"] == {"name": "Thing 1"}
    assert responses["1"]["status"] == 201
    assert responses["1"]["location"].startswith(f"{HOST}{ROOT}/Things(")
    assert responses["2"]["status"] == 200
    assert responses["3"]["status"] in (400, 404) and responses["3"]["body"]["code"] in (400, 404)
    assert alice.get(f"Things({thing})").body["name"] == "Json Patched"

    referencing = alice.post("$batch", json_batch_referencing(thing, observed_property))
    assert referencing.status == 200, referencing.text[:300]
    sensor_link, datastream_link = (r["location"] for r in referencing.body["responses"])
    assert [r["status"] for r in referencing.body["responses"]] == [201, 201]
    assert alice.get(datastream_link + "/Sensor").body["@iot.selfLink"] == sensor_link


def test_a_failing_atomicity_group_leaves_nothing(alice, streams):
    before = alice.get("Sensors", **{"$count": "true"}).body["@iot.count"]
    answer = alice.post(
        "$batch",
        {
            "requests": [
                {
                    "id": "a",
                    "atomicityGroup": "g",
                    "method": "post",
                    "url": "Sensors",
                    "body": {
                        "name": "s",
                        "description": "s",
                        "encodingType": "text",
                        "metadata": "m",
                    },
                },
                {
                    "id": "b",
                    "atomicityGroup": "g",
                    "method": "post",
                    "url": "Datastreams",
                    "body": {"name": "no sensor"},
                },
            ]
        },
    )
    assert answer.status == 200, answer.text[:300]
    assert any(r["status"] >= 400 for r in answer.body["responses"])
    assert alice.get("Sensors", **{"$count": "true"}).body["@iot.count"] == before


def test_system_query_option_names_are_case_insensitive(alice, streams):
    """FROST's own tests ask for `$orderBy=id desc` (BatchTests.getLastestEntityIdForPath)."""
    newest = alice.get("Things", **{"$orderby": "id desc", "$top": "1"}).value[0]["@iot.id"]
    answer = alice.get("Things", **{"$orderBy": "id desc", "$Top": "1"})
    assert answer.status == 200, answer.text[:300]
    assert [t["@iot.id"] for t in answer.value] == [newest]


def test_text_no_database_stores_in_a_json_batch_is_a_400_not_a_500(alice, streams):
    """The outer request's checks see a JSON escape (\\ud800) as plain text: a lone
    surrogate in a request's id or URL, or %00 in its URL, reached a query or the answer
    (security review, low)."""
    thing, _, _ = streams
    for requests in (
        [{"id": "1", "method": "get", "url": "Things?$filter=name eq '\ud800'"}],
        [{"id": "1", "method": "get", "url": "Things(\ud800)"}],
        [{"id": "\ud800", "method": "get", "url": f"Things({thing})"}],
    ):
        answer = alice.post("$batch", {"requests": requests})
        assert answer.status == 400, answer.text[:300]
        assert "surrogate" in answer.body["message"]
    answer = alice.post(
        "$batch",
        {
            "requests": [
                {"id": "1", "method": "get", "url": "Things?$filter=name eq 'a%00b'"},
                {"id": "2", "method": "get", "url": f"Things({thing})?$select=name"},
            ]
        },
    )
    assert answer.status == 200, answer.text[:300]
    first, second = answer.body["responses"]
    assert first["status"] == 400 and "Null characters" in first["body"]["message"]
    assert second["status"] == 200  # the others still run
