"""Limits that keep one request from taking the service down (security review SEC-1,
SEC-3): a $batch never runs a batch, bodies nested too deeply are a 400, and one
response holds a bounded number of entities however $expand nests $top."""

import json

import pytest

from sensorgrid.sensorthings.write import batch

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
