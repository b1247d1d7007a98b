"""The ingest pipeline counts committed samples and dead letters (deltas: counters are global)."""

import json

import pytest
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from tests.ingest.conftest import hours_ago


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def device(world):
    credential = world.node_a.issue_credential()
    world.node_a.save(update_fields=["credential_digest"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client, world.node_a.device_id


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/v1/ingest/", data=data, content_type=content_type)


def test_http_ingest_counts_new_and_duplicate_samples(device, django_capture_on_commit_callbacks):
    client, device_id = device
    message = [{"device": device_id, "ts": hours_ago(2).isoformat(), "values": {"co2": 612}}]
    new = value("sensorgrid_ingested_samples_total", source="http", result="new")
    duplicate = value("sensorgrid_ingested_samples_total", source="http", result="duplicate")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, message).json()["accepted"] == 1
        assert post(client, message).json()["duplicates"] == 1
    assert value("sensorgrid_ingested_samples_total", source="http", result="new") == new + 1
    assert (
        value("sensorgrid_ingested_samples_total", source="http", result="duplicate")
        == duplicate + 1
    )


def test_rejected_values_count_as_dead_letters_by_reason(
    device, django_capture_on_commit_callbacks
):
    client, device_id = device
    bad = [{"device": device_id, "ts": hours_ago(1).isoformat(), "values": {"co2": "high"}}]
    before = value("sensorgrid_dead_letters_total", reason="invalid-value", source="http")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, bad).json()["rejected"][0]["reason"] == "invalid-value"
    after = value("sensorgrid_dead_letters_total", reason="invalid-value", source="http")
    assert after == before + 1


def test_a_payload_kept_whole_counts_too(device, django_capture_on_commit_callbacks):
    client, _ = device
    before = value("sensorgrid_dead_letters_total", reason="malformed", source="http")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, "co2=1", content_type="text/csv").status_code == 415
    assert value("sensorgrid_dead_letters_total", reason="malformed", source="http") == before + 1


def test_nothing_is_counted_before_the_commit(device, django_capture_on_commit_callbacks):
    client, device_id = device
    message = [{"device": device_id, "ts": hours_ago(3).isoformat(), "values": {"co2": 700}}]
    before = value("sensorgrid_ingested_samples_total", source="http", result="new")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(client, message)
    assert value("sensorgrid_ingested_samples_total", source="http", result="new") == before
    for callback in callbacks:
        callback()
    assert value("sensorgrid_ingested_samples_total", source="http", result="new") == before + 1
