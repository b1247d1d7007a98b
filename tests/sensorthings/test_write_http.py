"""Writes through HTTP at /sta/v1.1/, as STA clients send them: status codes, the
Location header, JSON bodies, $ref, JSON-PATCH, CreateObservations and $batch."""

import json
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as m
from sensorgrid.telemetry.models import Sample
from tests.sensorthings.test_write import thing_body

ROOT = "/sta/v1.1/"


def send(client, method, path, body=None, content_type="application/json", **headers):
    data = json.dumps(body) if body is not None else None
    call = getattr(client, method.lower())
    return call(ROOT + path, data=data, content_type=content_type, **headers)


def test_post_deep_insert_then_patch_put_and_delete(world, client_for):
    alice = client_for(world.alice)
    created = send(alice, "POST", "Things", thing_body())
    assert created.status_code == 201, created.content
    location = created["Location"]
    assert location.startswith("http://testserver/sta/v1.1/Things(")
    pk = int(location[location.index("(") + 1 : location.index(")")])
    assert created.json()["@iot.id"] == pk and created.json()["name"] == "Weather station"
    patched = send(alice, "PATCH", f"Things({pk})", {"name": "Renamed"})
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    put = send(alice, "PUT", f"Things({pk})", {"@iot.id": pk, "name": "Put"})
    assert put.status_code == 200 and put.json()["properties"] is None
    json_patch = send(
        alice,
        "PATCH",
        f"Things({pk})",
        [{"op": "add", "path": "/properties/a", "value": 1}],
        content_type="application/json-patch+json",
    )
    assert json_patch.status_code == 200 and json_patch.json()["properties"] == {"a": 1}
    assert send(alice, "DELETE", f"Things({pk})").status_code == 200
    assert send(alice, "GET", f"Things({pk})").status_code == 404


def test_refusals_are_fros_error_bodies(world, client_for, sta):
    alice, bob = client_for(world.alice), client_for(world.bob)
    missing = send(alice, "POST", "Things", {"description": "no name"})
    assert missing.status_code == 400
    assert missing.json()["type"] == "error" and "'name'" in missing.json()["message"]
    assert send(bob, "POST", "Things", thing_body()).status_code == 403
    foreign = send(
        alice,
        "POST",
        "Observations",
        {
            "result": 1,
            "Datastream": {"@iot.id": m.Datastream.objects.filter(node=world.node_b).first().pk},
        },
    )
    assert foreign.status_code == 400 and "No Datastream with id" in foreign.json()["message"]
    assert Node.objects.filter(organization=world.org_a, alias="Weather station").count() == 0


def test_an_observation_posted_to_a_numeric_datastream_is_a_sample(world, client_for, sta):
    alice = client_for(world.alice)
    co2 = sta.datastream(world.node_a, sta.co2)
    posted = send(
        alice,
        "POST",
        f"Datastreams({co2.pk})/Observations",
        {"phenomenonTime": "2026-03-01T11:00:00Z", "result": 455},
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["result"] == 455
    assert Sample.objects.filter(node=world.node_a, quantity=sta.co2, value=455).exists()
    again = send(
        alice,
        "POST",
        f"Datastreams({co2.pk})/Observations",
        {"phenomenonTime": "2026-03-01T11:00:00Z", "result": 456},
    )
    assert again.status_code == 409


def test_ref_links_and_unlinks_a_location(world, client_for):
    alice = client_for(world.alice)
    thing = send(alice, "POST", "Things", {"name": "Bare", "description": ""}).json()["@iot.id"]
    location = send(
        alice,
        "POST",
        "Locations",
        {
            "name": "Lab",
            "description": "",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [1, 2]},
        },
    ).json()["@iot.id"]
    linked = send(alice, "POST", f"Things({thing})/Locations/$ref", {"@iot.id": location})
    assert linked.status_code in (200, 204), linked.content
    assert m.Location.objects.filter(things=thing, pk=location).exists()
    assert m.HistoricalLocation.objects.filter(node_id=thing).count() == 1
    unlinked = send(alice, "DELETE", f"Things({thing})/Locations({location})/$ref")
    assert unlinked.status_code == 200, unlinked.content
    assert not m.Location.objects.filter(things=thing).exists()


def test_create_observations_and_batch_over_http(world, client_for, sta):
    alice = client_for(world.alice)
    answer = send(
        alice,
        "POST",
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": sta.text_stream.pk},
                "components": ["phenomenonTime", "result"],
                "dataArray": [["2026-03-04T00:00:00Z", "a"], ["never", "b"]],
            }
        ],
    )
    assert answer.status_code == 201, answer.content
    first, second = answer.json()
    assert first.startswith("http://testserver/sta/v1.1/Observations(") and second == "error"
    batch = send(
        alice,
        "POST",
        "$batch",
        {
            "requests": [
                {
                    "id": "s",
                    "atomicityGroup": "g",
                    "method": "post",
                    "url": "Sensors",
                    "body": {"name": "S", "encodingType": "text/plain", "metadata": "m"},
                },
                {"id": "get", "atomicityGroup": "g", "method": "get", "url": "$s"},
                {"id": "missing", "method": "get", "url": "Things(999999)"},
            ]
        },
    )
    assert batch.status_code == 200, batch.content
    responses = batch.json()["responses"]
    assert [r["status"] for r in responses] == [201, 200, 404]
    assert responses[1]["body"]["name"] == "S"


@contextmanager
def table_held(table: str):
    """Another connection holds ``table`` until the block ends: PostgreSQL's exclusive
    lock (this connection waits at most 300 ms for it), or SQLite's shared-cache table
    lock, which a read holds until its transaction ends and which refuses writers at once."""
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                else:
                    cursor.execute(f"SELECT count(*) FROM {table}")
                    cursor.fetchall()
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET lock_timeout = '300ms'")
        yield
    finally:
        release.set()
        thread.join(10)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_locked_table_is_a_503_to_retry_and_the_retry_is_stored(world, client_for, sta):
    alice = client_for(world.alice)
    body = {
        "result": "retried",
        "phenomenonTime": "2026-03-05T00:00:00Z",
        "Datastream": {"@iot.id": sta.text_stream.pk},
    }
    with table_held(m.Observation._meta.db_table):
        busy = send(alice, "POST", "Observations", body)
    assert busy.status_code == 503, busy.content
    assert busy["Retry-After"] == "5"
    assert busy.json() == {
        "code": 503,
        "type": "error",
        "message": "The database is busy or unreachable; try the request again in a moment.",
    }
    assert not m.Observation.objects.filter(result="retried").exists()
    again = send(alice, "POST", "Observations", body)
    assert again.status_code == 201, again.content
    assert m.Observation.objects.filter(result="retried").count() == 1
