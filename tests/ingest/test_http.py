"""POST /api/v1/ingest/ with a node's credential, through the real HTTP stack."""

import json

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from sensorgrid.telemetry.models import DeadLetter, Sample
from tests.ingest.conftest import hours_ago

URL = "/api/v1/ingest/"


@pytest.fixture
def credentials(world):
    """Fresh ingest credentials of node_a (org A) and node_b (org B)."""
    issued = {}
    for node in (world.node_a, world.node_b):
        issued[node.device_id] = node.issue_credential()
        node.save(update_fields=["credential_digest"])
    return issued


def device_client(credential: str | None) -> APIClient:
    client = APIClient()
    if credential:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def post(client, payload, content_type="application/json", path=URL):
    data = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post(path, data=data, content_type=content_type)


def reading(device, **values):
    return {"device": device, "ts": hours_ago(1).isoformat(), "values": values or {"co2": 650}}


def test_a_device_sends_values_and_gets_counts_after_commit(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    message = [reading(world.node_a.device_id, co2=650, humidity=40)]
    response = post(client, message)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    again = post(client, message)  # the very same message, sent again
    assert again.json()["duplicates"] == 2
    assert Sample.objects.count() == 2


def test_rejected_messages_are_listed_with_their_index_and_kept(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    response = post(
        client, [reading(world.node_a.device_id), reading(world.node_a.device_id, co2="high")]
    )
    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 1 and body["rejected"][0]["reason"] == "invalid-value"
    assert DeadLetter.objects.get().reason == "invalid-value"


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Bearer", "Token abc"])
def test_missing_or_wrong_credentials_get_401_and_nothing_is_kept(world, credentials, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = post(client, [reading(world.node_a.device_id)])
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not DeadLetter.objects.exists() and not Sample.objects.exists()


def test_a_device_of_another_organization_is_403_and_kept(world, credentials):
    client = device_client(credentials[world.node_b.device_id])
    response = post(client, [reading(world.node_a.device_id)])
    assert response.status_code == 403
    assert response.json()["reason"] == "forbidden-device"
    letter = DeadLetter.objects.get()
    assert letter.organization_id == world.org_b.pk  # charlie's org sees what charlie sent
    assert not Sample.objects.exists()


def test_an_unparsable_body_is_400_and_kept(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    response = post(client, b'{"device": ')
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert bytes(DeadLetter.objects.get().payload) == b'{"device": '


def test_a_wrong_content_type_is_415_and_kept(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    response = post(client, "co2=600", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert DeadLetter.objects.get().detail.startswith("unsupported content type")


def test_a_body_over_the_limit_is_413(world, credentials, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = device_client(credentials[world.node_a.device_id])
    response = post(client, [reading(world.node_a.device_id)] * 50)
    assert response.status_code == 413
    assert "limit is 1000 bytes" in response.json()["detail"]


def test_each_credential_has_its_own_rate_limit(world, credentials, settings, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    settings.SENSORGRID_INGEST_RATE = "2/min"
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: 1_000_000.0)
    a = device_client(credentials[world.node_a.device_id])
    b = device_client(credentials[world.node_b.device_id])
    statuses = [post(a, [reading(world.node_a.device_id)]).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = post(a, [reading(world.node_a.device_id)])
    assert int(limited["Retry-After"]) > 0
    assert post(b, [reading(world.node_b.device_id)]).status_code == 200
    cache.clear()


def test_managair_devices_can_post_unchanged(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    body = {
        "data": {
            "type": "Sample",
            "attributes": {
                "node": world.node_a.device_id,
                "timestamp_s": int(hours_ago(2).timestamp()),
                "co2_ppm": 812,
                "temperature_celsius": 21.5,
                "rel_humidity_percent": 38,
                "measurement_status": "M",
            },
        }
    }
    response = post(client, body, path="/api/v1/ingest/managair/")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 3


def test_an_unknown_decoder_is_404(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    response = post(client, [], path="/api/v1/ingest/nonsense/")
    assert response.status_code == 404
    # The known keys listed are the JSON decoders this endpoint serves.
    assert "known: chirpstack, chirpstack_v3, json, kpi" in response.json()["detail"]
    assert "influx_line" not in response.json()["detail"]


def test_the_line_protocol_decoder_is_404_pointing_to_the_influxdb_write_api(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    line = f"air,device={world.node_a.device_id} co2=650"
    response = post(client, line, content_type="text/plain", path="/api/v1/ingest/influx_line/")
    assert response.status_code == 404
    assert "post to /api/v2/write" in response.json()["detail"]
    assert not DeadLetter.objects.exists() and not Sample.objects.exists()


def test_the_schema_offers_only_the_json_decoders(client):
    schema = client.get("/api/schema/?format=json").json()
    (decoder,) = [
        p
        for p in schema["paths"]["/api/v1/ingest/{decoder}/"]["post"]["parameters"]
        if p["name"] == "decoder"
    ]
    assert "influx_line" not in decoder["schema"]["enum"]
    assert {"json", "ttn", "chirpstack", "managair"} <= set(decoder["schema"]["enum"])


def test_ndjson_bodies_are_accepted(world, credentials):
    client = device_client(credentials[world.node_a.device_id])
    lines = "\n".join(
        json.dumps(
            {
                "device": world.node_a.device_id,
                "ts": hours_ago(h).isoformat(),
                "values": {"co2": 500 + h},
            }
        )
        for h in (1, 2)
    )
    response = post(client, lines, content_type="application/x-ndjson")
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
