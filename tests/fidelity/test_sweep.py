"""The sweep and the ingest hook on the database, with a clock the test controls."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sensorgrid.fidelity.events import StatusChanged
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.fidelity.states import Thresholds
from sensorgrid.fidelity.sweep import sweep
from sensorgrid.fidelity.transitions import apply, readings
from sensorgrid.ingest import pipeline
from sensorgrid.inventory.models import Node, NodeStatus
from tests import factories as f
from tests.concurrency import at_once
from tests.ingest.conftest import envelope


def node_seen(last_seen, interval=60, **kwargs) -> Node:
    node = f.NodeFactory(sampling_interval=interval, **kwargs)
    Node.objects.filter(pk=node.pk).update(last_seen=last_seen)
    return node


def history(node) -> list[tuple[str, str]]:
    return list(
        NodeStatusChange.objects.filter(node=node)
        .order_by("at", "id")
        .values_list("from_status", "to_status")
    )


def status(node) -> str:
    return Node.objects.get(pk=node.pk).status


def test_a_node_goes_alive_missing_dead_and_each_change_is_recorded_once(db):
    t0 = timezone.now().replace(microsecond=0)
    node = node_seen(t0)
    sweep(now=t0 + timedelta(seconds=30))
    assert status(node) == NodeStatus.ALIVE
    sweep(now=t0 + timedelta(seconds=119))
    assert status(node) == NodeStatus.ALIVE
    sweep(now=t0 + timedelta(seconds=125))
    assert status(node) == NodeStatus.MISSING
    sweep(now=t0 + timedelta(minutes=30))
    sweep(now=t0 + timedelta(minutes=31))  # nothing new: nothing recorded
    assert status(node) == NodeStatus.DEAD
    assert history(node) == [("UNKNOWN", "ALIVE"), ("ALIVE", "MISSING"), ("MISSING", "DEAD")]
    changes = NodeStatusChange.objects.filter(node=node).order_by("at")
    # Each change is dated when the state began, not when the sweep noticed it.
    assert [c.at for c in changes] == [t0, t0 + timedelta(seconds=120), t0 + timedelta(minutes=24)]
    assert Node.objects.get(pk=node.pk).status_since == t0 + timedelta(minutes=24)


def test_a_worker_that_was_down_records_the_jump_straight_to_dead(db):
    t0 = timezone.now()
    node = node_seen(t0)
    sweep(now=t0)
    sweep(now=t0 + timedelta(days=2))
    assert history(node) == [("UNKNOWN", "ALIVE"), ("ALIVE", "DEAD")]


def test_a_node_that_never_sent_stays_unknown_without_history(db):
    node = f.NodeFactory()
    sweep(now=timezone.now() + timedelta(days=365))
    assert status(node) == NodeStatus.UNKNOWN
    assert history(node) == []


def test_the_model_interval_applies_unless_the_node_overrides_it(db):
    t0 = timezone.now()
    slow_model = f.NodeModelFactory(organization=None, sampling_interval=3600)
    by_model = node_seen(t0, interval=None, model=slow_model)
    overridden = node_seen(t0, interval=60, model=slow_model)
    sweep(now=t0 + timedelta(minutes=10))
    assert status(by_model) == NodeStatus.ALIVE
    assert status(overridden) == NodeStatus.MISSING


def test_the_factors_come_from_settings(db, settings):
    settings.SENSORGRID_FIDELITY_MISSING_FACTOR = 10
    t0 = timezone.now()
    node = node_seen(t0)
    sweep(now=t0 + timedelta(minutes=5))
    assert status(node) == NodeStatus.ALIVE


def test_a_clock_behind_the_last_message_keeps_the_node_alive(db):
    t0 = timezone.now()
    node = node_seen(t0 + timedelta(minutes=10))  # written by a host whose clock runs ahead
    sweep(now=t0)
    assert status(node) == NodeStatus.ALIVE
    assert NodeStatusChange.objects.get(node=node).at == t0


def test_a_stale_reading_does_not_mark_a_node_that_just_sent_missing(db):
    t0 = timezone.now()
    node = node_seen(t0 - timedelta(hours=1))
    Node.objects.filter(pk=node.pk).update(status=NodeStatus.ALIVE)
    stale = list(readings(Node.objects.filter(pk=node.pk)))
    Node.objects.filter(pk=node.pk).update(last_seen=t0)  # a message arrives meanwhile
    assert apply(stale, t0, Thresholds()) == []
    assert status(node) == NodeStatus.ALIVE


def test_ingesting_a_sample_revives_a_missing_node_at_once(
    world, django_capture_on_commit_callbacks
):
    t0 = timezone.now()
    Node.objects.filter(pk=world.node_a.pk).update(last_seen=t0 - timedelta(days=3))
    sweep(now=t0)
    assert status(world.node_a) == NodeStatus.DEAD
    payload = json.dumps(
        {"device": world.node_a.device_id, "ts": t0.isoformat(), "values": {"co2": 600}}
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.ingest(envelope(payload), "json")
    assert status(world.node_a) == NodeStatus.ALIVE
    assert history(world.node_a)[-1] == ("DEAD", "ALIVE")


def test_changes_are_announced_after_commit(db, listen, django_capture_on_commit_callbacks):
    received = []
    listen(
        StatusChanged,
        lambda changed: received.extend((c.node_id, c.to_status) for c in changed.changes),
    )
    node = node_seen(timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sweep()
    assert received == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert received == [(node.pk, NodeStatus.ALIVE)]


ON_POSTGRES = connection.vendor == "postgresql"


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="concurrent writers: PostgreSQL pass (the SQLite test database is one shared "
    "in-memory cache that refuses a second writer instead of waiting)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps seeded rows
def test_two_sweeps_at_once_record_each_change_exactly_once():
    t0 = timezone.now()
    nodes = [node_seen(t0 - timedelta(minutes=10)) for _ in range(60)]
    Node.objects.update(status=NodeStatus.ALIVE)
    at_once(lambda: sweep(now=t0))
    assert Node.objects.filter(status=NodeStatus.MISSING).count() == len(nodes)
    assert NodeStatusChange.objects.count() == len(nodes)  # not twice
