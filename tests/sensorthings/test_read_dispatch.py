"""The views' dispatch of writes (views.py): status codes, Location, bodies, $ref links,
and the refusals before any write (content type, broken JSON, size)."""

import pytest

ROOT = "/sta/v1.1/"
BASE = "http://testserver/sta/v1.1/"


@pytest.fixture
def alice(client_for, world):
    return client_for(world.alice)


def send(client, method, path, body, content_type="application/json"):
    import json

    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(ROOT + path, data, content_type=content_type)


def test_post_put_patch_delete_answer_as_frost_does(alice, sta, world):
    created = send(
        alice,
        "post",
        "Locations",
        {
            "name": "Roof",
            "description": "on the roof",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [13.4, 52.5]},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert created["Location"] == body["@iot.selfLink"] == f"{BASE}Locations({body['@iot.id']})"
    assert body["location"] == {"type": "Point", "coordinates": [13.4, 52.5]}
    path = f"Locations({body['@iot.id']})"
    patched = send(alice, "patch", path, {"description": "on the north roof"})
    assert patched.status_code == 200 and patched.json()["description"] == "on the north roof"
    assert patched.json()["name"] == "Roof"
    put = send(
        alice,
        "put",
        path,
        {
            "name": "Attic",
            "description": "",
            "encodingType": "application/vnd.geo+json",
            "location": {"type": "Point", "coordinates": [1, 2]},
        },
    )
    assert put.status_code == 200 and put.json()["name"] == "Attic"
    assert put.json()["encodingType"] == "application/vnd.geo+json"
    deleted = alice.delete(ROOT + path)
    assert deleted.status_code == 200
    assert alice.get(ROOT + path).status_code == 404
    assert alice.delete(ROOT + path).status_code == 404


def test_post_to_a_navigation_collection_links_to_the_parent(alice, sta, world):
    thing = world.node_a.pk
    datastream = sta.datastream(world.node_a, sta.co2).pk
    created = send(
        alice,
        "post",
        f"Datastreams({sta.text_stream.pk})/Observations",
        {
            "phenomenonTime": "2026-03-02T00:00:00Z",
            "result": "sunny",
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["result"] == "sunny"
    again = alice.get(created["Location"].removeprefix("http://testserver"))
    assert again.status_code == 200 and again.json() == created.json()
    number = send(
        alice,
        "post",
        f"Things({thing})/Datastreams({datastream})/Observations",
        {
            "phenomenonTime": "2026-03-02T00:00:00Z",
            "result": 420,
        },
    )
    assert number.status_code == 201, number.content
    assert number.json()["result"] == 420


def test_ref_links_are_added_and_removed(alice, sta, world):
    location = send(
        alice,
        "post",
        "Locations",
        {
            "name": "Hall",
            "description": "",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [0, 0]},
        },
    ).json()["@iot.id"]
    thing = world.node_a.pk
    added = send(alice, "post", f"Things({thing})/Locations/$ref", {"@iot.id": location})
    assert added.status_code in (200, 204), added.content
    refs = alice.get(f"{ROOT}Things({thing})/Locations/$ref").json()["value"]
    assert {"@iot.selfLink": f"{BASE}Locations({location})"} in refs
    removed = alice.delete(f"{ROOT}Things({thing})/Locations/$ref?$id={BASE}Locations({location})")
    assert removed.status_code == 200, removed.content
    refs = alice.get(f"{ROOT}Things({thing})/Locations/$ref").json()["value"]
    assert {"@iot.selfLink": f"{BASE}Locations({location})"} not in refs
    for body in ({}, {"@iot.id": "x"}, {"@iot.selfLink": "Things(1)"}, [1]):
        refused = send(alice, "post", f"Things({thing})/Locations/$ref", body)
        assert refused.status_code == 400, (body, refused.content)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ('{"name": "x"}', "text/plain", 400),
        ("name=x", "application/x-www-form-urlencoded", 400),
        ('{"name": ', "application/json", 400),
        ("", "application/json", 400),
        ('{"name": "a\\u0000b"}', "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400),
    ],
)
def test_bodies_that_cannot_be_read_are_refused_before_writing(
    alice, sta, body, content_type, status
):
    response = send(alice, "post", "Things", body, content_type)
    assert response.status_code == status, response.content[:300]
    assert response.json()["type"] == "error"


def test_a_body_over_the_limit_is_413(alice, sta, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(alice, "post", "Things", {"name": "x" * 2000})
    assert response.status_code == 413
    assert "1000" in response.json()["message"]


def test_methods_that_do_not_apply_are_405(alice, sta, world):
    assert send(alice, "post", f"Things({world.node_a.pk})", {}).status_code == 405
    assert send(alice, "patch", "Things", {}).status_code == 405
    # a collection's DELETE needs a $filter (test_conformance_delete_filter.py)
    assert alice.delete(ROOT + "Things").status_code == 400
    assert alice.delete(ROOT + f"Things({world.node_a.pk})/name").status_code == 405
    assert send(alice, "patch", f"Things({world.node_a.pk})/name", {}).status_code == 405


def test_a_foreign_entity_cannot_be_written_and_is_missing(client_for, sta, world):
    charlie = client_for(world.charlie)
    path = f"Things({world.node_a.pk})"
    assert send(charlie, "patch", path, {"name": "mine"}).status_code == 404
    assert charlie.delete(ROOT + path).status_code == 404
    assert send(charlie, "post", f"{path}/Datastreams", {"name": "x"}).status_code == 404
