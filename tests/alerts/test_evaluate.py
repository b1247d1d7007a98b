"""Rules evaluated from the ingest hook, fidelity's signal and the worker's clock."""

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from sensorgrid.alerts import evaluate
from sensorgrid.alerts.events import AlertChanged
from sensorgrid.alerts.models import Alert, AlertState, Delivery
from sensorgrid.fidelity.sweep import sweep
from sensorgrid.ingest import pipeline
from sensorgrid.inventory.models import Node, Quantity
from tests.alerts.conftest import rule, webhook
from tests.ingest.conftest import envelope

CO2 = {"above": 1000, "clear": 900, "for_seconds": 600}


_clock: dict[str, datetime] = {}


@pytest.fixture(autouse=True)
def anchor():
    """One "now" per test for every ``send``: minutes ago must mean the same instant in
    each call, or two sends across a second boundary shift a 10-minute breach by 1 s."""
    _clock["now"] = timezone.now().replace(microsecond=0)


def send(capture, device, *points, **values_of):
    """Ingest (minutes ago, co2) points for ``device``, running the hooks."""
    now = _clock["now"]
    messages = [
        {"device": device, "ts": (now - timedelta(minutes=ago)).isoformat(), "values": {"co2": v}}
        for ago, v in points
    ]
    with capture(execute=True):
        outcome = pipeline.ingest(envelope(json.dumps(messages).encode()), "json")
    assert not outcome.rejected, outcome.rejected


@pytest.fixture
def co2_rule(world, receiver):
    channel = webhook(world.org_a, receiver)
    return rule(world.org_a, "threshold", CO2, Quantity.objects.get(key="co2"), [channel])


def test_a_sustained_breach_opens_one_alert_and_one_delivery(
    world, co2_rule, django_capture_on_commit_callbacks
):
    device = world.node_a.device_id
    send(django_capture_on_commit_callbacks, device, (30, 1100), (25, 1150))
    assert not Alert.objects.exists()  # 5 minutes: not yet
    send(django_capture_on_commit_callbacks, device, (20, 1200))
    send(django_capture_on_commit_callbacks, device, (15, 1300), (10, 1250), (5, 990))
    alert = Alert.objects.get()
    assert alert.is_open and alert.node == world.node_a and alert.quantity.key == "co2"
    assert alert.last_value == 990  # follows the series while open
    assert (alert.opened_at - alert.started_at) == timedelta(minutes=10)
    delivery = Delivery.objects.get()
    assert delivery.event == "alert.opened" and delivery.payload["alert"]["id"] == alert.pk
    send(django_capture_on_commit_callbacks, device, (1, 850))
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert list(Delivery.objects.order_by("pk").values_list("event", flat=True)) == [
        "alert.opened",
        "alert.resolved",
    ]
    assert AlertState.objects.get().alert is None


def test_the_next_breach_opens_a_new_alert(world, co2_rule, django_capture_on_commit_callbacks):
    device = world.node_a.device_id
    send(django_capture_on_commit_callbacks, device, (50, 1100), (40, 1100), (35, 800))
    send(django_capture_on_commit_callbacks, device, (30, 1100), (20, 1100), (19, 1100))
    assert Alert.objects.count() == 2
    assert Alert.objects.open().count() == 1


def test_a_batch_costs_a_fixed_number_of_queries_not_one_per_sample(
    world, co2_rule, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    device = world.node_a.device_id
    send(django_capture_on_commit_callbacks, device, (100, 500))  # warms the rule index
    groups = {
        (co2_rule.pk, world.node_a.pk, co2_rule.quantity_id): [
            (timezone.now() - timedelta(seconds=s), 500.0) for s in range(500, 0, -1)
        ]
    }
    with django_assert_max_num_queries(8):
        evaluate.evaluate_samples(groups, timezone.now())


def test_rules_watch_only_their_scope(world, receiver, django_capture_on_commit_callbacks):
    co2 = Quantity.objects.get(key="co2")
    rule(world.org_a, "threshold", {"above": 1000}, co2, scope="room", room=world.public_room)
    rule(world.org_b, "threshold", {"above": 1000}, co2)  # org B's rule, org A's nodes
    send(django_capture_on_commit_callbacks, world.node_a.device_id, (5, 2000))
    assert not Alert.objects.exists()
    send(django_capture_on_commit_callbacks, world.public_node.device_id, (5, 2000))
    assert Alert.objects.get().node == world.public_node


def test_alert_changed_is_announced_after_commit(
    world, co2_rule, listen, django_capture_on_commit_callbacks
):
    seen = []
    listen(AlertChanged, lambda changed: seen.append((changed.alert.pk, changed.event)))
    send(django_capture_on_commit_callbacks, world.node_a.device_id, (20, 1100), (5, 1100))
    alert = Alert.objects.get()
    assert seen == [(alert.pk, "opened")]
    with django_capture_on_commit_callbacks(execute=True):
        evaluate.acknowledge(alert, world.alice)
        evaluate.acknowledge(alert, world.bob)  # the first one stays
    assert seen[-1] == (alert.pk, "acknowledged") and len(seen) == 2
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.alice


def test_node_health_rule_follows_missing_dead_and_alive(world, django_capture_on_commit_callbacks):
    rule(world.org_a, "node_health", {}, scope="node", node=world.node_a)
    t0 = timezone.now().replace(microsecond=0)
    Node.objects.filter(organization=world.org_a).update(last_seen=t0, sampling_interval=60)
    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=t0 + timedelta(seconds=10))
    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=t0 + timedelta(minutes=5))
    alert = Alert.objects.get()
    assert alert.node == world.node_a and alert.quantity is None and "MISSING" in alert.message
    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=t0 + timedelta(hours=2))
    alert.refresh_from_db()
    assert Alert.objects.count() == 1 and "DEAD" in alert.message and alert.is_open
    send(django_capture_on_commit_callbacks, world.node_a.device_id, (0, 500))  # revives
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_no_data_opens_after_the_duration_and_resolves_when_data_comes(
    world, django_capture_on_commit_callbacks
):
    co2 = Quantity.objects.get(key="co2")
    watch = rule(
        world.org_a, "no_data", {"for_seconds": 1800}, co2, scope="node", node=world.node_a
    )
    send(django_capture_on_commit_callbacks, world.node_a.device_id, (10, 600))
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate.check_no_data(now) == []
        assert evaluate.check_no_data(now + timedelta(minutes=25)) != []
        assert evaluate.check_no_data(now + timedelta(minutes=26)) == []  # still one
    alert = Alert.objects.get(rule=watch)
    assert alert.is_open and "no data since" in alert.message
    send(django_capture_on_commit_callbacks, world.node_a.device_id, (0, 610))
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_no_data_counts_from_the_rule_creation_for_a_silent_series(world):
    co2 = Quantity.objects.get(key="co2")
    rule(world.org_a, "no_data", {"for_seconds": 600}, co2, scope="node", node=world.node_b)
    assert evaluate.check_no_data(timezone.now()) == []  # node B is not org A's
    watch = rule(world.org_a, "no_data", {"for_seconds": 600}, co2, scope="node", node=world.node_a)
    assert evaluate.check_no_data(timezone.now() + timedelta(minutes=11))[0].rule == watch


def test_changing_a_rule_resolves_its_alerts_and_forgets_its_state(
    world, co2_rule, django_capture_on_commit_callbacks
):
    send(django_capture_on_commit_callbacks, world.node_a.device_id, (20, 1100), (5, 1100))
    evaluate.reset_rule(co2_rule, timezone.now())
    assert not Alert.objects.open().exists() and not AlertState.objects.exists()
