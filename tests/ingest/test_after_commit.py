"""After-commit consumers: one ordered setting, three phases, one mechanism (issue 17, item 1)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.models import Sum
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from sensorgrid import events
from sensorgrid.health.models import IngestMinute
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.events import Committed
from sensorgrid.telemetry.models import Sample
from tests.ingest.conftest import envelope, hours_ago

COMMITTED = "sensorgrid.ingest.events.Committed"


def reading(device: str) -> bytes:
    return json.dumps(
        {"device": device, "ts": hours_ago(1).isoformat(), "values": {"co2": 612}}
    ).encode()


def errors_of(name: str) -> float:
    return (
        REGISTRY.get_sample_value("sensorgrid_event_consumer_errors_total", {"consumer": name})
        or 0.0
    )


def test_the_setting_names_every_consumer_of_a_batch_in_order():
    assert [c.name for c in events.consumers_of(Committed)] == [
        "sensorgrid.health.ingest_rate.after_ingest",
        "sensorgrid.fidelity.revive.after_ingest",
        "sensorgrid.live.publish.after_ingest",
        "sensorgrid.alerts.evaluate.after_ingest",
        "sensorgrid.sensorthings.mqtt.feed.after_ingest",
    ]


def test_consumers_run_in_the_listed_order_once_the_batch_commits(
    world, settings, django_capture_on_commit_callbacks
):
    ran = []
    settings.AFTER_COMMIT_CONSUMERS = {
        COMMITTED: [
            (lambda report: ran.append(("first", len(report.rows))), "before-ack"),
            (lambda report: ran.append(("second", len(report.rows))), "after-ack"),
            (lambda report: ran.append(("third", len(report.rows))), "after-ack"),
        ]
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pipeline.ingest(envelope(reading(world.node_a.device_id)), "json")
    assert ran == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert ran == [("first", 1), ("second", 1), ("third", 1)]


def test_after_ack_consumers_wait_for_the_acknowledgement(
    world, settings, django_capture_on_commit_callbacks
):
    ran = []
    settings.AFTER_COMMIT_CONSUMERS = {
        COMMITTED: [
            (lambda report: ran.append("before-ack"), "before-ack"),
            (lambda report: ran.append("after-ack"), "after-ack"),
        ]
    }
    with events.deferred() as after_ack:
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.ingest(envelope(reading(world.node_a.device_id)), "json")
        assert ran == ["before-ack"]
        ran.append("ack")
    after_ack.run()
    assert ran == ["before-ack", "ack", "after-ack"]
    after_ack.run()  # each waits once
    assert ran == ["before-ack", "ack", "after-ack"]


def test_a_consumer_that_raises_is_counted_and_the_next_one_still_runs(
    world, settings, django_capture_on_commit_callbacks
):
    def broken(report):
        raise RuntimeError("boom")

    seen = []
    settings.AFTER_COMMIT_CONSUMERS = {
        COMMITTED: [(broken, "after-ack"), (lambda report: seen.append(report), "after-ack")]
    }
    name = f"{__name__}.{broken.__qualname__}"
    before = errors_of(name)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = pipeline.ingest(envelope(reading(world.node_a.device_id)), "json")
    assert outcome.accepted == 1 and len(seen) == 1
    assert errors_of(name) == before + 1


@pytest.mark.parametrize(
    "entries, message",
    [
        (
            [("sensorgrid.live.publish.after_ingest", "whenever")],
            "has phase 'whenever', not one of in-transaction, before-ack, after-ack",
        ),
        (
            [
                ("sensorgrid.live.publish.after_ingest", "after-ack"),
                ("sensorgrid.health.ingest_rate.after_ingest", "before-ack"),
            ],
            "then the before-ack consumers before the after-ack ones",
        ),
        ([("sensorgrid.live.publish.no_such_consumer", "after-ack")], "no_such_consumer"),
    ],
)
def test_a_wrong_setting_fails_the_system_check(settings, entries, message):
    settings.AFTER_COMMIT_CONSUMERS = {COMMITTED: entries}
    with pytest.raises(SystemCheckError, match=message):
        call_command("check")


# The batch's transaction is the test's own here, not a savepoint of the test's.
own_transaction = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@own_transaction
def test_an_in_transaction_consumer_writes_inside_the_batchs_transaction(world, settings):
    ran = []
    settings.AFTER_COMMIT_CONSUMERS = {
        COMMITTED: [
            (lambda report: ran.append(("inside", connection.in_atomic_block)), "in-transaction"),
            (lambda report: ran.append(("after", connection.in_atomic_block)), "after-ack"),
        ]
    }
    outcome = pipeline.ingest(envelope(reading(world.node_a.device_id)), "json")
    assert outcome.accepted == 1
    assert ran == [("inside", True), ("after", False)]


@own_transaction
def test_the_status_counters_of_an_http_batch_commit_with_it(world):
    credential = world.node_a.issue_credential()
    world.node_a.save(update_fields=["credential_digest"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    body = b"[" + reading(world.node_a.device_id) + b"," + b'{"device": 1}' + b"]"
    response = client.post("/api/v1/ingest/", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    counted = IngestMinute.objects.aggregate(Sum("value_count"), Sum("dead_letter_count"))
    assert counted == {"value_count__sum": 1, "dead_letter_count__sum": 1}


@own_transaction
def test_a_failing_in_transaction_consumer_leaves_the_batch_stored(world, settings):
    def broken(report):
        with connection.cursor() as cursor:  # on PostgreSQL this aborts the transaction
            cursor.execute("SELECT * FROM no_such_table")

    seen = []
    settings.AFTER_COMMIT_CONSUMERS = {
        COMMITTED: [(broken, "in-transaction"), (seen.append, "after-ack")]
    }
    name = f"{__name__}.{broken.__qualname__}"
    before = errors_of(name)
    outcome = pipeline.ingest(envelope(reading(world.node_a.device_id)), "json")
    assert outcome.accepted == 1 and len(seen) == 1
    assert Sample.objects.filter(node=world.node_a).count() == 1
    assert errors_of(name) == before + 1


def test_inside_a_longer_transaction_an_in_transaction_consumer_waits_for_the_ack(
    world, settings, django_capture_on_commit_callbacks
):
    ran = []
    settings.AFTER_COMMIT_CONSUMERS = {
        COMMITTED: [
            (lambda report: ran.append("in-transaction"), "in-transaction"),
            (lambda report: ran.append("before-ack"), "before-ack"),
            (lambda report: ran.append("after-ack"), "after-ack"),
        ]
    }
    with events.deferred() as after_ack:
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.ingest(envelope(reading(world.node_a.device_id)), "json")
        assert ran == ["before-ack"]
    after_ack.run()
    assert ran == ["before-ack", "in-transaction", "after-ack"]
