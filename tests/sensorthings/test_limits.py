"""Limits that keep one request from taking the service down (security review SEC-1,
SEC-3): a $batch never runs a batch, bodies nested too deeply are a 400, and one
response holds a bounded number of entities however $expand nests $top."""

import json
from datetime import timedelta

import pytest

from sensorgrid.sensorthings import read
from sensorgrid.sensorthings.write import batch
from tests.sensorthings.conftest import MARCH, RESULTS, write_samples

ROOT = "/sta/v1.1/"
pytestmark = pytest.mark.django_db


def _batch(client, document) -> dict:
    raw = document if isinstance(document, str) else json.dumps(document)
    response = client.post(ROOT + "$batch", data=raw, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


INNER = {"requests": [{"id": "in", "method": "get", "url": "Things?$top=1"}]}


@pytest.mark.parametrize(
    "url",
    [
        "/$batch",
        "$batch/",
        "./$batch",
        "%24batch",
        "/%24BATCH",
        "$Batch?x=1",
        "http://testserver/sta/v1.1/$batch",
        "/sta/v1.1/$batch?$top=1",
    ],
)
def test_a_batch_cannot_contain_a_batch_however_its_url_is_spelt(world, sta, client_for, url):
    charlie = client_for(world.charlie)
    document = {"requests": [{"id": "x", "method": "post", "url": url, "body": INNER}]}
    (response,) = _batch(charlie, document)["responses"]
    assert response["status"] == 400
    assert "responses" not in response["body"]  # the inner batch did not run


def test_nested_batches_cannot_run_more_requests_than_one_batch_may(world, sta, client_for):
    charlie = client_for(world.charlie)
    inner = {
        "requests": [
            {"id": str(i), "method": "get", "url": "Things?$top=1"}
            for i in range(batch.MAX_REQUESTS)
        ]
    }
    outer = {
        "requests": [
            {"id": f"o{j}", "method": "post", "url": "/$batch", "body": inner} for j in range(3)
        ]
    }
    responses = _batch(charlie, outer)["responses"]
    assert [r["status"] for r in responses] == [400, 400, 400]
    assert responses[0]["body"]["message"] == "A batch cannot contain a batch."


@pytest.mark.parametrize("depth", [120, 250])
def test_deeply_nested_batches_are_refused_not_a_server_error(world, sta, client_for, depth):
    charlie = client_for(world.charlie)
    body = json.dumps(INNER)
    for _ in range(depth):
        request = f'{{"id": "x", "method": "post", "url": "/$batch", "body": {body}}}'
        body = f'{{"requests": [{request}]}}'
    (response,) = _batch(charlie, body)["responses"]
    assert response["status"] == 400


def test_a_sub_request_body_nested_too_deeply_is_a_400(world, sta, client_for):
    charlie = client_for(world.charlie)
    deep = "[" * 900 + "]" * 900
    raw = '{"requests": [{"id": "x", "method": "post", "url": "Things", "body": ' + deep + "}]}"
    response = charlie.post(ROOT + "$batch", data=raw, content_type="application/json")
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:  # the body parsed; the request in it is refused
        (sub,) = response.json()["responses"]
        assert sub["status"] == 400
    # the service still answers
    assert charlie.get(ROOT + "Things").status_code == 200


# --- SEC-3: one response holds at most read.MAX_ENTITIES entities ------------------------


def _entities(document) -> int:
    """The entities written in a response (objects with an id), at every level."""
    if isinstance(document, list):
        return sum(_entities(item) for item in document)
    if not isinstance(document, dict):
        return 0
    own = 1 if "@iot.id" in document else 0
    return own + sum(_entities(value) for value in document.values())


def _pages(client, url: str, budget: int) -> list[dict]:
    """A collection's items, following @iot.nextLink; every page within the budget."""
    items: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        assert _entities(page) <= budget
        items += page["value"]
        url = page.get("@iot.nextLink")
    return items


@pytest.fixture
def more_samples(world, sta):
    later = [MARCH + timedelta(minutes=10 + i) for i in range(40)]
    write_samples(*[(world.node_a, sta.co2, ts, float(i)) for i, ts in enumerate(later)])


def test_nested_expand_stops_at_the_budget_and_links_the_rest(
    world, sta, more_samples, client_for, monkeypatch
):
    alice = client_for(world.alice)
    query = ROOT + "Things?$expand=Datastreams($expand=Observations($top=10000;$select=id))"
    full = alice.get(query).json()
    every = {
        ds["@iot.id"]: {o["@iot.id"] for o in ds["Observations"]}
        for thing in full["value"]
        for ds in thing["Datastreams"]
    }
    assert _entities(full) > 50 and len(every) >= 3

    monkeypatch.setattr(read, "MAX_ENTITIES", 20)
    cut = alice.get(query).json()
    assert _entities(cut) <= 20
    links = 0
    for thing in cut["value"]:
        assert "Datastreams@iot.nextLink" not in thing  # the few Datastreams all fit
        for ds in thing["Datastreams"]:
            shown = [o["@iot.id"] for o in ds["Observations"]]
            link = ds.get("Observations@iot.nextLink")
            if link:
                links += 1
                assert link.startswith("http://testserver/sta/v1.1/Datastreams(")
                shown += [o["@iot.id"] for o in _pages(alice, link, 20)]
            assert sorted(shown) == sorted(every[ds["@iot.id"]])  # nothing lost, no repeat
    assert links >= 1


def test_expanding_observations_of_many_datastreams_is_bounded(
    world, sta, more_samples, client_for, monkeypatch
):
    """The review's request: every level at $top=10000."""
    monkeypatch.setattr(read, "MAX_ENTITIES", 25)
    query = "Things?$top=10000&$expand=Datastreams($top=10000;$expand=Observations($top=10000))"
    for client in (client_for(None), client_for(world.alice)):
        response = client.get(ROOT + query)
        assert response.status_code == 200
        assert 0 < _entities(response.json()) <= 25


def test_an_entity_repeated_in_every_row_counts_each_time(world, sta, client_for, monkeypatch):
    """Each Observation carries its Datastream with all its Observations: the page is cut
    (nextLink) so that the entities written stay within the budget."""
    alice = client_for(world.alice)
    stream = sta.text_stream.pk
    query = f"Datastreams({stream})/Observations?$expand=Datastream($expand=Observations)"
    whole = [o["@iot.id"] for o in alice.get(ROOT + query).json()["value"]]
    assert len(whole) == len(RESULTS)
    monkeypatch.setattr(read, "MAX_ENTITIES", 30)
    first = alice.get(ROOT + query).json()
    assert _entities(first) <= 30
    assert 0 < len(first["value"]) < len(RESULTS)
    assert "@iot.nextLink" in first
    every = _pages(alice, ROOT + query, 30)
    assert [o["@iot.id"] for o in every] == whole


def test_an_entity_whose_expansion_cannot_fit_is_a_400(world, sta, client_for, monkeypatch):
    alice = client_for(world.alice)
    monkeypatch.setattr(read, "MAX_ENTITIES", 10)
    url = ROOT + f"Datastreams({sta.text_stream.pk})/Observations?$top=1"
    one = alice.get(url).json()["value"][0]["@iot.id"]
    expand = "Datastream($expand=Observations($expand=Datastream($expand=Observations)))"
    response = alice.get(ROOT + f"Observations({one})?$expand={expand}")
    assert response.status_code == 400
    assert "more than 10 entities" in response.json()["message"]
    assert alice.get(ROOT + f"Observations({one})?$expand=Datastream").status_code == 200


def test_the_responses_of_a_batch_share_one_budget(world, sta, client_for, monkeypatch):
    alice = client_for(world.alice)
    monkeypatch.setattr(read, "MAX_ENTITIES", 12)
    url = f"Datastreams({sta.text_stream.pk})/Observations"
    document = {"requests": [{"id": str(i), "method": "get", "url": url} for i in range(3)]}
    first, second, third = _batch(alice, document)["responses"]
    assert (first["status"], second["status"], third["status"]) == (200, 200, 400)
    assert len(first["body"]["value"]) == len(RESULTS)
    assert len(second["body"]["value"]) == 12 - len(RESULTS)
    assert "@iot.nextLink" in second["body"]
    # a request of its own has the whole budget again
    assert len(alice.get(ROOT + url).json()["value"]) == len(RESULTS)
