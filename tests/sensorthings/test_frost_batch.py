"""FROST-Server's BatchTests (FROST-Server.Tests c04batch), the JSON cases ported: the
parts of a JSON batch response are compared exactly as FROST's BatchResponseJson does
(id, status, location; the body of a 2xx part too, and a Jackson reader that refuses
any other key), and a change set references the Sensor it created."""

# ruff: noqa: F401, F811

from tests.sensorthings.conformance_client import (
    HOST,
    ROOT,
    alice,
    demo,
    json_batch,
    json_batch_referencing,
)

KEYS = {"id", "status", "location", "body", "headers"}


def _thing(sta, name: str, value: int) -> int:
    return sta.create(
        "Things", {"name": name, "description": "It's a thing.", "properties": {"int": value}}
    )


def test_06_json_batch_request(alice):
    thing = _thing(alice, "Thing 0", 8)
    answer = alice.post("$batch", json_batch(thing))
    assert answer.status == 200, answer.text[:500]
    newest = alice.get("Things", **{"$orderby": "id desc", "$top": "1"}).value[0]["@iot.id"]
    parts = answer.body["responses"]
    assert all(set(part) <= KEYS for part in parts), parts
    assert parts[:3] == [
        {"id": "0", "status": 200, "body": {"name": "Thing 0"}},
        {"id": "1", "status": 201, "location": f"{HOST}{ROOT}/Things({newest})"},
        {"id": "2", "status": 200},
    ]
    assert parts[3]["id"] == "3" and parts[3]["status"] in (400, 404)
    assert parts[3]["body"]["code"] == parts[3]["status"]
    assert alice.get(f"Things({thing})").body["name"] == "Json Patched"


def test_07_json_batch_change_set_referencing_new_entities(alice):
    thing = _thing(alice, "Thing 0", 8)
    prop = alice.create(
        "ObservedProperties",
        {
            "name": "ObservedProperty 1",
            "definition": "http://ucom.org/temperature",
            "description": "t",
        },
    )
    answer = alice.post("$batch", json_batch_referencing(thing, prop))
    assert answer.status == 200, answer.text[:500]
    sensor = alice.get("Sensors", **{"$orderby": "id desc", "$top": "1"}).value[0]["@iot.id"]
    stream = alice.get("Datastreams", **{"$orderby": "id desc", "$top": "1"}).value[0]["@iot.id"]
    assert answer.body == {
        "responses": [
            {"id": "sensor1", "status": 201, "location": f"{HOST}{ROOT}/Sensors({sensor})"},
            {"id": "any", "status": 201, "location": f"{HOST}{ROOT}/Datastreams({stream})"},
        ]
    }
    assert alice.get(f"Datastreams({stream})/Sensor").body["@iot.id"] == sensor


def test_a_ref_is_written_with_no_content_in_each_link_form(alice):
    """POST …/$ref answers 204 (OData; FROST's postEntitySetRefAndTest) for the link as
    @iot.id, @iot.selfLink, or OData 4.01's @id, absolute or relative."""
    thing = _thing(alice, "Ref thing", 1)
    made = []
    for x in range(3):
        made.append(
            alice.create(
                "Locations",
                {
                    "name": f"ref {x}",
                    "description": "d",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [x, 1]},
                },
            )
        )
    bodies = [
        {"@iot.id": made[0]},
        {"@iot.selfLink": f"{HOST}{ROOT}/Locations({made[1]})"},
        {"@id": f"Locations({made[2]})"},
    ]
    for body in bodies:
        answer = alice.post(f"Things({thing})/Locations/$ref", body)
        assert answer.status == 204, (body, answer.status, answer.text[:300])
    linked = {e["@iot.id"] for e in alice.get(f"Things({thing})/Locations").value}
    assert linked == set(made)
