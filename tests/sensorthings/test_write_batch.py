"""dataArray (CreateObservations) and JSON $batch on top of the write functions.

The batch's ``dispatch`` here is a small router over the write functions (the views'
internal entry takes its place in the HTTP tests): it is enough to show the batch's own
rules, $-references, change sets rolled back whole and dependsOn.
"""

import re
from datetime import UTC, datetime

from django.db import transaction

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import ids
from sensorgrid.sensorthings import models as m
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.schema import ENTITY_SETS
from sensorgrid.sensorthings.write import batch, create, create_observations, delete, update
from sensorgrid.telemetry.models import Sample
from tests.sensorthings.test_write import numeric_stream

BASE = "http://testserver/sta/v1.1/"
_PATH = re.compile(r"^(\w+)(?:\((\d+)\))?(?:/(\w+))?$")


def router(world, user):
    def dispatch(method, url, body, headers):
        found = _PATH.match(url)
        if found is None:
            return 404, {}, {"code": 404, "type": "error", "message": f"No path {url}"}
        name, pk, nav = found.groups()
        entity_set = ENTITY_SETS[name]
        try:
            with transaction.atomic():
                instance = entity_set.model._default_manager.filter(pk=pk).first() if pk else None
                if pk and instance is None:
                    raise StaError(404, f"No {entity_set.singular} with id {pk}.")
                if method == "POST":
                    target, parent = (
                        (
                            ENTITY_SETS[entity_set.navigations[nav].target],
                            (entity_set, instance, nav),
                        )
                        if nav
                        else (entity_set, None)
                    )
                    made = create(target, body, user=user, organization=world.org_a, parent=parent)
                    return (
                        201,
                        {"Location": f"{BASE}{target.name}({made.pk})"},
                        {"@iot.id": made.pk},
                    )
                if method == "PATCH":
                    update(entity_set, instance, body, user=user)
                    return 200, {}, None
                if method == "DELETE":
                    delete(entity_set, instance, user=user)
                    return 200, {}, None
                return 200, {}, {"@iot.id": instance.pk}
        except StaError as exc:
            return exc.status, {}, {"code": exc.status, "type": "error", "message": exc.message}

    return dispatch


SENSOR = {"name": "DS18B20", "description": "", "encodingType": "application/pdf", "metadata": "x"}
PROPERTY = {"name": "Water", "definition": "water", "description": ""}


def datastream(thing, sensor="$sensor1", prop="$prop1"):
    return {
        "name": "Water temperature",
        "unitOfMeasurement": {"name": "degree Celsius", "symbol": "°C", "definition": "Cel"},
        "observationType": "OM_Measurement",
        "Thing": {"@iot.id": thing},
        "Sensor": {"@iot.id": sensor},
        "ObservedProperty": {"@iot.id": prop},
    }


def test_a_change_set_references_what_it_created(world, sta):
    document = {
        "requests": [
            {"id": "0", "method": "get", "url": f"Things({world.node_a.pk})"},
            {
                "id": "sensor1",
                "atomicityGroup": "g",
                "method": "post",
                "url": "Sensors",
                "body": SENSOR,
            },
            {
                "id": "prop1",
                "atomicityGroup": "g",
                "method": "post",
                "url": "ObservedProperties",
                "body": PROPERTY,
            },
            {
                "id": "ds",
                "atomicityGroup": "g",
                "method": "post",
                "url": "Datastreams",
                "body": datastream(world.node_a.pk),
            },
            {
                "id": "rename",
                "atomicityGroup": "g",
                "method": "patch",
                "url": "$sensor1",
                "body": {"name": "Renamed"},
            },
            {"id": "obs", "method": "post", "url": "$ds/Observations", "body": {"result": 12}},
        ]
    }
    answer = batch.process(document, user=world.alice, dispatch=router(world, world.alice))
    statuses = [(r["id"], r["status"]) for r in answer["responses"]]
    assert statuses == [
        ("0", 200),
        ("sensor1", 201),
        ("prop1", 201),
        ("ds", 201),
        ("rename", 200),
        ("obs", 201),
    ]
    assert "body" not in answer["responses"][3]  # a write answers its location only
    made_id = answer["responses"][3]["location"].rsplit("(", 1)[1].rstrip(")")
    made = m.Datastream.objects.get(pk=int(made_id))
    assert made.sensor.name == "Renamed" and made.observed_property.name == "Water"
    assert answer["responses"][1]["location"].startswith(BASE + "Sensors(")
    assert made.observations.get().result == 12


def test_a_failing_request_rolls_its_change_set_back_and_fails_its_dependents(world, sta):
    before = (m.Sensor.objects.count(), m.Datastream.objects.count())
    document = {
        "requests": [
            {
                "id": "sensor1",
                "atomicityGroup": "g",
                "method": "post",
                "url": "Sensors",
                "body": SENSOR,
            },
            {
                "id": "prop1",
                "atomicityGroup": "g",
                "method": "post",
                "url": "ObservedProperties",
                "body": PROPERTY,
            },
            {
                "id": "ds",
                "atomicityGroup": "g",
                "method": "post",
                "url": "Datastreams",
                "body": datastream(world.node_b.pk),
            },
            {"id": "after", "dependsOn": ["ds"], "method": "get", "url": "$sensor1"},
            {"id": "alone", "method": "post", "url": "Sensors", "body": SENSOR},
        ]
    }
    answer = batch.process(document, user=world.alice, dispatch=router(world, world.alice))
    statuses = [(r["id"], r["status"]) for r in answer["responses"]]
    # Charlie's node is not alice's to link: 400 like a missing one; the Sensor and the
    # ObservedProperty of the same change set are gone again.
    assert statuses == [
        ("sensor1", 424),
        ("prop1", 424),
        ("ds", 400),
        ("after", 424),
        ("alone", 201),
    ]
    assert answer["responses"][2]["body"]["message"] == f"No Thing with id {world.node_b.pk}."
    assert (m.Sensor.objects.count(), m.Datastream.objects.count()) == (before[0] + 1, before[1])


def test_a_malformed_batch_is_refused_whole(world):
    for document in [
        [],
        {"requests": [{"id": "1", "method": "post"}]},
        {"requests": [{"id": "1", "method": "brew", "url": "Things"}]},
    ]:
        try:
            batch.process(document, user=world.alice, dispatch=router(world, world.alice))
        except StaError as exc:
            assert exc.status == 400
        else:
            raise AssertionError(f"{document} was accepted")


def test_create_observations_answers_per_row(world, sta):
    numeric = numeric_stream(world)
    body = [
        {
            "Datastream": {"@iot.id": sta.text_stream.pk},
            "components": ["phenomenonTime", "result", "parameters"],
            "dataArray@iot.count": 2,
            "dataArray": [
                ["2026-03-03T10:00:00Z", "cloudy", {"by": "eye"}],
                ["2026-03-03T10:01:00-0100", [1, 2], None],
            ],
        },
        {
            "Datastream": {"@iot.id": numeric.pk},
            "components": ["phenomenonTime", "result"],
            "dataArray": [
                ["2026-03-03T10:00:00Z", 420],
                ["2026-03-03T10:01:00Z", "not a number"],
                ["2026-03-03T10:00:00Z", 421],  # the series already has a value then
                ["2026-03-03T10:02:00Z", 430],
            ],
        },
    ]
    created = create_observations(body, user=world.alice, organization=world.org_a)
    assert [c is None for c in created] == [False, False, False, True, True, False]
    second = m.Observation.objects.get(pk=ids.decode(created[1])[1])
    assert second.result == [1, 2]
    assert second.phenomenon_time == datetime(2026, 3, 3, 11, 1, tzinfo=UTC)
    assert list(
        Sample.objects.filter(node=numeric.node).order_by("ts").values_list("value", flat=True)
    ) == [420, 430]


def test_create_observations_refuses_a_malformed_body_whole(world, sta):
    before = m.Observation.objects.count()
    for body in [
        {"Datastream": {"@iot.id": sta.text_stream.pk}},
        [
            {
                "Datastream": {"@iot.id": sta.text_stream.pk},
                "components": ["result", "colour"],
                "dataArray": [],
            }
        ],
        [
            {
                "Datastream": {"@iot.id": sta.text_stream.pk},
                "components": ["result"],
                "dataArray": [[1, 2]],
            }
        ],
        [{"components": ["result"], "dataArray": [[1]]}],
    ]:
        try:
            create_observations(body, user=world.alice, organization=world.org_a)
        except StaError as exc:
            assert exc.status == 400
        else:
            raise AssertionError(f"{body} was accepted")
    assert m.Observation.objects.count() == before
    try:
        create_observations(
            [
                {
                    "Datastream": {"@iot.id": sta.text_stream.pk},
                    "components": ["result"],
                    "dataArray": [[1]],
                }
            ],
            user=world.bob,
            organization=world.org_a,
        )
    except StaError as exc:
        assert exc.status == 403
    assert Node.objects.filter(pk=world.node_a.pk).exists()


def test_a_json_request_cannot_bring_the_multipart_readers_refusal(world, sta):
    """The multipart reader hands a refusal on as an exception in the request; keys a
    JSON request brings along are ignored, whatever their name."""
    document = {
        "requests": [
            {"id": "1", "method": "get", "url": f"Things({world.node_a.pk})", "refused": 5},
            {"id": "2", "method": "get", "url": "Things(1)", "refused": [500, "x"]},
        ]
    }
    answer = batch.process(document, user=world.alice, dispatch=router(world, world.alice))
    assert answer["responses"][0]["status"] == 200
    assert answer["responses"][1]["status"] != 500
