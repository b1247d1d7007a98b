"""Inputs the schema fuzzer (test_schemathesis.py) found mishandled, one test each."""

from datetime import UTC, datetime

import pytest


@pytest.mark.parametrize("resource", ["nodes", "sites", "organizations", "quantities"])
def test_search_term_with_nul_character_is_400_on_search(world, client_for, resource):
    # DRF answered with a bare list, not the documented field-keyed object.
    response = client_for(world.alice).get(f"/api/v1/{resource}/", {"search": "co2\x00"})
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}


def test_schema_declares_the_error_responses(client):
    # Undeclared, every 400/401/403/404/409 looked like a bug to clients and fuzzers.
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    codes = {
        (method.upper(), path): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert codes["GET", "/api/v1/nodes/"] >= {"200", "400", "401", "404"}
    assert codes["GET", "/api/v1/nodes/{id}/"] >= {"200", "401", "404"}
    assert codes["PATCH", "/api/v1/nodes/{id}/"] >= {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "415",
    }
    assert codes["DELETE", "/api/v1/node-models/{id}/"] >= {"204", "401", "403", "404", "409"}
    assert codes["DELETE", "/api/v1/memberships/{id}/"] >= {"204", "400"}  # last owner
    assert codes["POST", "/api/v1/auth/token/"] >= {"200", "400", "429"}
    error = paths["/api/v1/nodes/{id}/"]["get"]["responses"]["404"]["content"]
    assert error["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("value", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/nodes/", "seen_since"),
        ("/api/v1/dead-letters/", "since"),
        ("/api/v1/dead-letters/", "until"),
    ],
)
def test_date_time_filter_leaving_the_date_range_in_utc_is_400(
    world, client_for, url, param, value
):
    # Was an OverflowError (500) on SQLite when the ORM shifted the value to UTC.
    response = client_for(world.alice).get(url, {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]


@pytest.mark.parametrize("url", ["/api/v1/nodes/", "/api/v1/dead-letters/"])
def test_date_time_filter_with_offset_beyond_16_hours_is_accepted(world, client_for, url):
    # PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement out of range", 500).
    param = "seen_since" if "nodes" in url else "since"
    response = client_for(world.alice).get(url, {param: "2026-01-01T00:00:00-21:57"})
    assert response.status_code == 200


def test_seen_since_compares_instants_whatever_the_offset(world, client_for):
    world.node_a.last_seen = datetime(2026, 1, 1, 12, tzinfo=UTC)
    world.node_a.save(update_fields=["last_seen"])
    client = client_for(world.alice)

    def seen_since(value: str) -> list[str]:
        return [
            n["device_id"]
            for n in client.get("/api/v1/nodes/", {"seen_since": value}).json()["results"]
        ]

    assert seen_since("2026-01-02T09:59:00+22:00") == ["secretA-node"]  # 11:59 UTC
    assert seen_since("2026-01-01T00:01:00-12:00") == []  # 12:01 UTC


def test_body_without_a_supported_content_type_is_415(world, client_for):
    response = client_for(world.alice).post("/api/v1/sites/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]
