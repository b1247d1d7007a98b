"""Text no database can store (NUL, lone surrogates) is a 400 at the edge, never a 500.

Each of these answered 500 on PostgreSQL (NUL) or on both databases (a lone
surrogate, which no driver can encode): the value reached a query or a save.
"""

import json
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from sensorgrid.inventory.models import Site

NUL = "Null characters are not allowed."


def test_a_nul_quantity_in_a_timeseries_query_is_400_naming_the_parameter(world, client_for):
    url = f"/api/v1/nodes/{world.node_a.pk}/timeseries/"
    response = client_for(world.alice).get(url, {"quantity": "\x00"})
    assert response.status_code == 400
    assert response.json() == {"quantity": [NUL]}


def test_a_nul_in_the_path_of_a_geo_layer_is_400(world, client_for):
    response = client_for(world.alice).get("/api/geo/x%00/")
    assert response.status_code == 400
    assert response.json() == {"detail": "The path contains a null character (%00)."}


def test_a_nul_in_a_parameter_name_is_400(world, client_for):
    response = client_for(world.alice).get("/api/v1/nodes/?de%00vice=1")
    assert response.status_code == 400
    assert "parameter name" in response.json()["detail"]


def test_an_escaped_percent_zero_zero_is_ordinary_text(world, client_for):
    # "%2500" decodes to the three characters "%00": no NUL, nothing to refuse.
    response = client_for(world.alice).get("/api/v1/nodes/?search=%2500")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/inventory/node/?device_id=%00",
        "/admin/inventory/node/?q=%00",
        "/admin/telemetry/deadletter/?reason__exact=%00",
    ],
)
def test_a_nul_in_an_admin_list_filter_is_400(world, client, url):
    client.force_login(world.root)
    response = client.get(url)
    assert response.status_code == 400
    assert "null character" in response.content.decode().lower()


def test_ingest_on_a_path_with_nul_is_400(world, client):
    response = client.post("/api/v1/ingest/%00/", data="{}", content_type="application/json")
    assert response.status_code == 400


def test_the_asgi_path_refuses_a_nul_query_too(world):
    response = async_to_sync(AsyncClient().get)("/api/v1/nodes/", {"search": "\x00"})
    assert response.status_code == 400
    assert response.json() == {"search": [NUL]}


def test_a_channel_config_with_a_nul_is_400_naming_where(world, client_for):
    body = {
        "organization": world.org_a.pk,
        "name": "hook",
        "kind": "webhook",
        "config": {"url": "https://example.com/\u0000"},
    }
    response = client_for(world.alice).post("/api/v1/alert-channels/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"config": [f"{NUL} (at config.url)"]}


def test_a_lone_surrogate_in_a_json_body_is_400_not_500(world, client_for):
    body = json.dumps({"organization": world.org_a.pk, "name": "x\ud800"})  # "\\ud800" on the wire
    response = client_for(world.alice).post("/api/v1/sites/", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert "surrogate" in response.json()["name"][0]
    assert not Site.objects.filter(name__startswith="x").exists()


def test_a_nul_in_a_key_of_a_json_body_is_400(world, client_for):
    body = {"organization": world.org_a.pk, "name": "ok", "kind": "webhook", "config": {}}
    body["config"]["u\x00rl"] = "https://example.com/"
    response = client_for(world.alice).post("/api/v1/alert-channels/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"config": [f"{NUL} (at config.u\\x00rl)"]}


def test_the_json_field_validator_refuses_nul_given_by_other_means():
    from sensorgrid.api.hygiene import storable_json

    with pytest.raises(ValidationError, match=r"at to\.0"):
        storable_json({"to": ["a\x00@example.com"]})
    storable_json({"to": ["a@example.com"]})  # clean: no exception


def test_json_nested_deeper_than_python_recurses_is_400_not_500(world, client_for):
    body = "[" * 100_000 + "]" * 100_000
    response = client_for(world.alice).post("/api/v1/sites/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


def test_a_nul_in_a_multipart_or_form_field_is_400_naming_the_field(world, client_for):
    # schemathesis found it on PostgreSQL: the multipart field reached the lookup of a
    # forwarder's quantities by key (a related field, which DRF does not check for NUL)
    client = client_for(world.alice)
    body = {"organization": world.org_a.pk, "name": "f", "quantities": ["co\x002"]}
    response = client.post("/api/v1/forwarders/", body, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"quantities": [NUL]}
    response = client.post(
        "/api/v1/forwarders/",
        "name=f&quantities=co%002",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json() == {"quantities": [NUL]}


SURROGATE = "Lone surrogate characters (\\ud800–\\udfff) are not allowed."


@pytest.mark.parametrize("metadata", ['{"a": "\\ud800"}', '{"\\udfff": 1}', '{"a": "x\\u0000"}'])
def test_json_text_in_a_form_field_holding_a_lone_surrogate_or_nul_is_400(
    world, client_for, metadata
):
    """The escape is six plain characters to the request's checks; DRF parses the field's
    JSON text after them (security review, low: a 500 on PostgreSQL)."""
    client = client_for(world.alice)
    body = {"organization": world.org_a.pk, "device_id": "form-node", "metadata": metadata}
    expected = NUL if "u0000" in metadata else SURROGATE
    for kind in ("multipart", None):
        if kind:
            response = client.post("/api/v1/nodes/", body, format=kind)
        else:
            response = client.post(
                "/api/v1/nodes/",
                "&".join(f"{k}={quote(str(v))}" for k, v in body.items()),
                content_type="application/x-www-form-urlencoded",
            )
        assert response.status_code == 400, response.content
        assert expected in response.json()["metadata"][0]
    before = world.node_a.metadata
    detail = f"/api/v1/nodes/{world.node_a.pk}/"
    response = client.patch(detail, {"metadata": metadata}, format="multipart")
    assert response.status_code == 400 and expected in response.json()["metadata"][0]
    # The dashboard's node settings go through the same serializer.
    browser = Client()
    browser.force_login(world.alice)
    page = browser.post(
        reverse("dashboard:node-settings", args=[world.node_a.pk]),
        {"device_id": world.node_a.device_id, "metadata": metadata},
    )
    assert page.status_code == 200  # the form again, with the error beside the field
    assert "are not allowed" in page.content.decode()
    world.node_a.refresh_from_db()
    assert world.node_a.metadata == before
