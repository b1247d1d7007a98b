"""What the worker and device health put on /metrics."""

from datetime import timedelta

import pytest
from django.utils import timezone
from huey import MemoryHuey
from prometheus_client import REGISTRY

from sensorgrid.fidelity.sweep import sweep
from sensorgrid.inventory.models import Node
from sensorgrid.worker import heartbeat, metrics


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_task_runs_and_failures_are_counted_with_their_duration():
    huey = MemoryHuey("metrics-test", immediate=True)
    metrics.connect(huey)

    @huey.task(name="test.works")
    def works():
        return 1

    @huey.task(name="test.breaks")
    def breaks():
        raise RuntimeError("boom")

    before = (
        value("sensorgrid_worker_tasks_total", task="test.works", outcome="complete"),
        value("sensorgrid_worker_tasks_total", task="test.breaks", outcome="error"),
        value("sensorgrid_worker_task_seconds_count", task="test.works"),
    )
    works()
    works()
    with pytest.raises(Exception, match="boom"):
        breaks().get()
    after = (
        value("sensorgrid_worker_tasks_total", task="test.works", outcome="complete"),
        value("sensorgrid_worker_tasks_total", task="test.breaks", outcome="error"),
        value("sensorgrid_worker_task_seconds_count", task="test.works"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 2]


def test_metrics_show_node_health_counts_and_the_heartbeat_age(world, client):
    now = timezone.now()
    Node.objects.filter(pk=world.node_a.pk).update(last_seen=now - timedelta(minutes=30))
    Node.objects.filter(pk=world.node_b.pk).update(last_seen=now)
    sweep(now=now)
    heartbeat.beat()
    text = client.get("/metrics").content.decode()
    assert 'sensorgrid_nodes{status="MISSING"} 1.0' in text
    assert 'sensorgrid_nodes{status="ALIVE"} 1.0' in text
    assert 'sensorgrid_nodes{status="UNKNOWN"} 1.0' in text  # the public node never sent
    assert 'sensorgrid_nodes{status="DEAD"} 0.0' in text
    age = next(
        line for line in text.splitlines() if line.startswith("sensorgrid_worker_heartbeat_age")
    )
    assert 0 <= float(age.split()[-1]) < 5
