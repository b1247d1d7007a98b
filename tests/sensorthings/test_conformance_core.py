"""Sensing core, read side (OGC 18-088 sections 8–9; ets-sta10 Capability1Tests:
checkServiceRootUri, readEntitiesAndCheckResponse, readEntityAndCheckResponse,
readNonexistentEntity, readPropertyOfEntityAndCheckResponse, checkResourcePaths)."""

# The fixtures are imported by name (tests/sensorthings/conformance_client.py) and
# requested as arguments, which ruff sees as unused imports and redefinitions.
# ruff: noqa: F401, F811

import pytest

from tests.sensorthings.conformance_client import (
    HOST,
    MANDATORY,
    RELATIONS,
    ROOT,
    alice,
    anonymous,
    demo,
    thing_body,
)

LONG_MAX = 9223372036854775807


@pytest.fixture
def world(alice):
    """One deep-inserted Thing of alice with everything around it: every set has an entity."""
    thing = alice.create("Things", thing_body("Core station", observations=3))
    return alice, thing


@pytest.mark.parametrize("root", [ROOT, ROOT + "/"])
def test_the_service_root_lists_every_entity_set_with_its_absolute_url(anonymous, root):
    answer = anonymous.get(root)
    if answer.status == 301:  # to the root with its slash; clients follow it
        assert answer.location == ROOT + "/"
        answer = anonymous.get(answer.location)
    assert answer.status == 200
    names = {entry["name"]: entry["url"] for entry in answer.body["value"]}
    assert set(RELATIONS) <= set(names)
    for name, url in names.items():
        assert url == f"{HOST}{ROOT}/{name}"
    allowed = set(RELATIONS) | {"MultiDatastreams"}
    assert set(names) <= allowed, set(names) - allowed


def test_the_service_root_declares_the_conformance_classes(anonymous):
    conformance = anonymous.get(ROOT + "/").body["serverSettings"]["conformance"]
    prefix = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
    for required in ("datamodel", "resource-path/resource-path-to-entities", "request-data"):
        assert any(
            c.startswith(prefix + required) or (prefix + required).startswith(c)
            for c in conformance
        ), required


def test_every_collection_has_control_information_mandatory_properties_and_navigation_links(world):
    sta, _ = world
    for entity_set, relations in RELATIONS.items():
        answer = sta.get(entity_set)
        assert answer.status == 200, (entity_set, answer.text[:300])
        assert answer.value, f"{entity_set} is empty"
        for entity in answer.value[:3]:
            assert isinstance(entity["@iot.id"], int)
            assert entity["@iot.selfLink"] == f"{HOST}{ROOT}/{entity_set}({entity['@iot.id']})"
            for name in MANDATORY[entity_set]:
                assert name in entity, (entity_set, name)
            for relation in relations:
                link = entity[f"{relation}@iot.navigationLink"]
                assert link == f"{entity['@iot.selfLink']}/{relation}", (entity_set, relation)


def test_an_entity_read_by_id_is_the_one_its_collection_lists(world):
    sta, _ = world
    for entity_set in RELATIONS:
        first = sta.get(entity_set).value[0]
        answer = sta.get(f"{entity_set}({first['@iot.id']})")
        assert answer.status == 200, (entity_set, answer.text[:300])
        assert answer.body == first
        # the selfLink is a working address
        assert sta.get(first["@iot.selfLink"]).body == first


def test_a_nonexistent_entity_is_404_with_an_error_body_for_every_set(world):
    sta, _ = world
    for entity_set in RELATIONS:
        for key in (LONG_MAX, 987654321):
            answer = sta.get(f"{entity_set}({key})")
            assert answer.status == 404, (entity_set, key, answer.status, answer.text[:300])
            assert answer.body["code"] == 404
            assert answer.body["message"]


def test_a_property_is_read_alone_and_its_value_raw(world):
    sta, thing = world
    answer = sta.get(f"Things({thing})/name")
    assert answer.status == 200
    assert answer.body == {"name": "Core station"}
    raw = sta.get(f"Things({thing})/name/$value")
    assert raw.status == 200
    assert raw.text == "Core station"
    properties = sta.get(f"Things({thing})/properties/$value")
    assert properties.status == 200
    assert properties.text.startswith("{")
    location = sta.get(f"Things({thing})/Locations").value[0]
    assert sta.get(f"Locations({location['@iot.id']})/location").body == {
        "location": location["location"]
    }


def test_every_property_of_every_set_reads_as_one_key_or_204(world):
    sta, _ = world
    for entity_set in RELATIONS:
        entity = sta.get(entity_set).value[0]
        for name in MANDATORY[entity_set]:
            answer = sta.get(f"{entity_set}({entity['@iot.id']})/{name}")
            if entity[name] is None:
                assert answer.status == 204, (entity_set, name, answer.status)
                continue
            assert answer.status == 200, (entity_set, name, answer.status, answer.text[:200])
            assert answer.body == {name: entity[name]}
            raw = sta.get(f"{entity_set}({entity['@iot.id']})/{name}/$value")
            assert raw.status == 200
            assert raw.text.startswith("{") == isinstance(entity[name], dict), (entity_set, name)


def test_an_unknown_property_or_set_is_404_or_400_never_500(world):
    sta, thing = world
    for path in (f"Things({thing})/colour", "Thingies", f"Things({thing})/Sensors", "Things(abc)"):
        answer = sta.get(path)
        assert answer.status in (400, 404), (path, answer.status)


def _walk(sta, path: str, target: str, depth: int, seen: list[str]) -> None:
    """ets-sta10 checkResourcePaths: every relation chain up to 4 levels is 200, and so is
    its $ref, whose items carry only @iot.selfLink. The suite walks from the first entity
    of each set after deleting everything; here the newest (the test's own) stands in."""
    answer = sta.get(path, **({"$orderby": "id desc"} if depth == 1 else {}))
    assert answer.status == 200, (path, answer.status, answer.text[:300])
    many = "value" in answer.body
    if many:
        assert answer.body["value"], f"{path} is empty"
    first = answer.body["value"][0] if many else answer.body
    ref = sta.get(f"{path}/$ref")
    assert ref.status == 200, (path + "/$ref", ref.status)
    items = ref.body["value"] if many else [ref.body]
    for item in items[:2]:
        assert list(item) == ["@iot.selfLink"], (path, item)
    seen.append(path)
    if depth == 4:
        return
    here = f"{path}({first['@iot.id']})" if many else path
    for relation, next_target in RELATIONS[target].items():
        _walk(sta, f"{here}/{relation}", next_target, depth + 1, seen)


def test_every_resource_path_four_levels_deep_answers_with_its_ref(world):
    sta, _ = world
    seen: list[str] = []
    for entity_set in RELATIONS:
        _walk(sta, entity_set, entity_set, 1, seen)
    assert "Things" in seen and len(seen) > 100


def test_a_member_of_a_navigation_is_addressed_by_id_and_a_stranger_is_not(world):
    sta, thing = world
    datastream = sta.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    answer = sta.get(f"Things({thing})/Datastreams({datastream})")
    assert answer.status == 200
    assert answer.body["@iot.id"] == datastream
    other = sta.create("Things", thing_body("Other station"))
    assert sta.get(f"Things({other})/Datastreams({datastream})").status == 404


def test_collections_are_ordered_by_id(world):
    sta, _ = world
    sta.create("Things", thing_body("Second station", observations=2))
    for entity_set in RELATIONS:
        ids = [entity["@iot.id"] for entity in sta.get(entity_set).value]
        assert ids == sorted(ids), entity_set


def test_times_are_iso_8601_utc_and_a_missing_result_time_is_null(world):
    sta, thing = world
    datastream = sta.get(f"Things({thing})/Datastreams").value[0]["@iot.id"]
    observations = sta.get(
        f"Datastreams({datastream})/Observations", **{"$orderby": "phenomenonTime"}
    ).value
    assert [o["result"] for o in observations] == [20, 21, 22]
    assert observations[0]["phenomenonTime"] in ("2025-03-01T00:00:00Z", "2025-03-01T00:00:00.000Z")
    assert observations[0]["resultTime"] is None
    stream = sta.get(f"Datastreams({datastream})").body
    start, end = stream["phenomenonTime"].split("/")
    assert start.startswith("2025-03-01T00:00:00") and end.startswith("2025-03-01T00:02:00")


def test_json_responses_say_so(world):
    sta, thing = world
    answer = sta.get(f"Things({thing})")
    assert answer.headers["Content-Type"].startswith("application/json")


def test_the_ogc_read_checks_pass_on_the_demo_with_ingested_data(alice, anonymous):
    """ets-sta10's Capability1 reads whatever the server holds, starting from the first
    entity of every set: on the demo with its devices' samples (as the simulators write
    them), every set has entities, every Observation its FeatureOfInterest, and every
    relation path from the first entities answers, for a member and for the public."""
    from datetime import UTC, datetime, timedelta

    from sensorgrid.ingest import writer
    from sensorgrid.ingest.validate import Row
    from sensorgrid.inventory.models import Node

    start = datetime(2026, 3, 1, tzinfo=UTC)
    writer.write(
        [
            Row(node.pk, quantity.pk, start + timedelta(minutes=i), 400.0 + i)
            for node in Node.objects.filter(model__isnull=False)
            for quantity in node.model.quantities.all()
            for i in range(3)
        ]
    )
    for sta in (alice, anonymous):
        for entity_set in RELATIONS:
            assert sta.get(entity_set).value, entity_set
        observation = sta.get("Observations").value[0]["@iot.id"]
        feature = sta.get(f"Observations({observation})/FeatureOfInterest")
        assert feature.status == 200, feature.text[:200]
        assert feature.body["feature"]["type"] == "Point"
        seen: list[str] = []
        for entity_set in RELATIONS:
            _walk(sta, entity_set, entity_set, 3, seen)
        assert len(seen) > 20
