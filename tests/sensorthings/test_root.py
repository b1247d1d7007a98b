"""The service document: every entity set with its absolute URL, the conformance list."""

import pytest
from django.test import Client

from sensorgrid.sensorthings import root

SETS = [
    "Things",
    "Locations",
    "HistoricalLocations",
    "Datastreams",
    "Sensors",
    "ObservedProperties",
    "Observations",
    "FeaturesOfInterest",
]


@pytest.mark.parametrize("path", ["/sta/v1.1/", "/sta/v1.1"])
def test_the_root_lists_every_set_with_an_absolute_url(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert [e["name"] for e in body["value"]] == SETS
    assert [e["url"] for e in body["value"]] == [
        f"http://testserver/sta/v1.1/{name}" for name in SETS
    ]


def test_urls_follow_the_host_and_the_proxy_scheme(db, settings):
    settings.ALLOWED_HOSTS = ["sensors.example.org"]
    response = Client().get(
        "/sta/v1.1/", HTTP_HOST="sensors.example.org", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.json()["value"][0]["url"] == "https://sensors.example.org/sta/v1.1/Things"
    things = Client().get(
        "/sta/v1.1/Things", HTTP_HOST="sensors.example.org", HTTP_X_FORWARDED_PROTO="https"
    )
    assert things.status_code == 200


def test_conformance_names_the_core_and_only_what_is_installed(db, monkeypatch):
    classes = Client().get("/sta/v1.1/").json()["serverSettings"]["conformance"]
    spec = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
    for name in ["datamodel", "resource-path/resource-path-to-entities", "request-data"]:
        assert spec + name in classes
    assert spec + "create-update-delete/create-entity" in classes
    # a prefix would switch on every create-update-delete test (JSON-PATCH, manual
    # HistoricalLocations…): each class is named exactly
    assert spec + "create-update-delete" not in classes
    # $batch in both forms: OData 4.0's multipart (the spec's class) and FROST's JSON one
    assert spec + "batch-request/batch-request" in classes
    assert "https://fraunhoferiosb.github.io/FROST-Server/extensions/JsonBatchRequest.html" in (
        classes
    )
    monkeypatch.setattr(root, "has_module", lambda name: False)
    monkeypatch.setattr(root, "has_json_patch", lambda: False)
    bare = Client().get("/sta/v1.1/").json()["serverSettings"]["conformance"]
    assert bare == root.CORE
    assert not any("batch" in c or "data-array" in c for c in bare)


def test_the_root_only_answers_get(db):
    response = Client().post("/sta/v1.1/", {}, content_type="application/json")
    assert response.status_code in (401, 405)
    assert response.json()["type"] == "error"
