"""The issue's "done when": a rule made through the API fires from ingested data, the
webhook receiver gets the signed notification at once (through the worker's task),
and the alert can be acknowledged."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from sensorgrid.alerts.events import AlertChanged
from sensorgrid.ingest import pipeline
from tests.ingest.conftest import envelope


@pytest.fixture
def worker_inline(settings):
    settings.SENSORGRID_ALERTS_SEND_AT_ONCE = True
    HUEY.immediate = True  # tasks run in-process at once, on an in-memory queue
    yield
    HUEY.immediate = False


def test_rule_to_signed_webhook_to_acknowledgement(
    world, client_for, receiver, worker_inline, listen, django_capture_on_commit_callbacks
):
    alice = client_for(world.alice)
    channel = alice.post(
        "/api/v1/alert-channels/",
        {"organization": world.org_a.pk, "name": "hook", "kind": "webhook",
         "config": {"url": receiver.url}},
        format="json",
    ).json()  # fmt: skip
    receiver.secret = channel["secret"]
    created = alice.post(
        "/api/v1/alert-rules/",
        {
            "organization": world.org_a.pk,
            "name": "Classroom CO2",
            "kind": "threshold",
            "params": {"above": 1000, "clear": 900, "for_seconds": 600},
            "scope": "site",
            "site": world.site_a.pk,
            "quantity": "co2",
            "channels": [channel["id"]],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    events = []
    listen(AlertChanged, lambda changed: events.append(changed.event))
    now = timezone.now().replace(microsecond=0)
    messages = [
        {"device": world.node_a.device_id, "ts": (now - timedelta(minutes=m)).isoformat(),
         "values": {"co2": 1200}}
        for m in (15, 10, 5)
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.ingest(envelope(json.dumps(messages).encode()), "json")
    (request,) = receiver.requests
    assert receiver.valid(request)
    body = json.loads(request.body)
    assert body["event"] == "alert.opened"
    assert body["alert"]["node"]["device_id"] == world.node_a.device_id
    assert body["alert"]["last_value"] == 1200
    assert events == ["opened"]
    (alert,) = alice.get("/api/v1/alerts/?open=true").json()["results"]
    with django_capture_on_commit_callbacks(execute=True):
        acknowledged = alice.post(f"/api/v1/alerts/{alert['id']}/acknowledge/")
    assert acknowledged.json()["acknowledged_at"] is not None
    assert events == ["opened", "acknowledged"]
    assert (
        alice.get(f"/api/v1/deliveries/?alert={alert['id']}").json()["results"][0]["status"]
        == "delivered"
    )
