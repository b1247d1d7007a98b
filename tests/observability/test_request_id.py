"""X-Request-ID: kept when sane, made up otherwise, returned on every response."""

import logging
import re

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

HEX_ID = re.compile(r"[0-9a-f]{32}")


def test_a_sane_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-42.a_B")
    assert response["X-Request-ID"] == "proxy-42.a_B"


def test_a_request_without_id_gets_a_new_one_each_time(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second) and first != second


@pytest.mark.parametrize("given", ["a b", "x" * 201, "id;drop", "<script>", "ünïcode", ""])
def test_an_unusable_request_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert HEX_ID.fullmatch(response["X-Request-ID"])


def test_error_responses_carry_the_id_too(client):
    response = client.get("/no/such/page", HTTP_X_REQUEST_ID="req-404")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-404"


def test_the_asgi_path_echoes_the_id():
    response = async_to_sync(AsyncClient().get)("/healthz", headers={"X-Request-ID": "asgi-1"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "asgi-1"


@pytest.mark.parametrize(
    "path",
    ["/boards/shared/{}/", "/api/v1/shared-boards/{}/", "/api/v1/shared-boards/{}/panels/p1/"],
)
def test_a_share_token_in_the_path_is_logged_by_its_prefix_only(db, client, caplog, path):
    token = "Abcd1234SecretPartOfTheShareToken"
    with caplog.at_level(logging.INFO, logger="sensorgrid.http"):
        client.get(path.format(token))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sensorgrid.http"]
    assert "SecretPart" not in line
    assert path.format("Abcd1234…") in line
