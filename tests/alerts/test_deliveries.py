"""Deliveries (the outbox) against a local webhook receiver that fails, times out and recovers.

Every delivery must reach the receiver's processing exactly once with a valid
signature; retries keep the idempotency key, so the receiver drops duplicates.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from sensorgrid.alerts import deliveries
from sensorgrid.alerts.channels import send as channel_send
from sensorgrid.alerts.models import Delivery, DeliveryStatus
from tests import factories as f
from tests.alerts.conftest import webhook
from tests.concurrency import at_once


def queue(channel, n=1, now=None) -> list[Delivery]:
    with transaction.atomic():
        return [
            deliveries.enqueue(channel, "test", {"event": "test", "n": i}, now=now)
            for i in range(n)
        ]


def status(delivery) -> Delivery:
    delivery.refresh_from_db()
    return delivery


def drain(now, until, step=timedelta(seconds=30)):
    """Run the periodic task on a clock that moves by ``step`` until ``until``."""
    while now <= until:
        deliveries.send_due(now)
        now += step
    return now


def test_500_five_times_then_200_arrives_once_after_exponential_backoff(world, receiver):
    receiver.script = [500] * 5
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    retries = []
    now = t0
    for _ in range(6):
        deliveries.send_due(now)
        delivery = status(delivery)
        retries.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 6
    assert retries[:5] == [30, 60, 120, 240, 480]  # base 30 s, doubling
    assert len(receiver.requests) == 6
    assert all(receiver.valid(r) for r in receiver.requests)
    assert {r.headers["Idempotency-Key"] for r in receiver.requests} == {
        str(delivery.idempotency_key)
    }
    assert receiver.processed == {str(delivery.idempotency_key): 1}


def test_a_delivery_is_not_sent_before_its_next_attempt(world, receiver):
    receiver.script = [503]
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    deliveries.send_due(t0)
    deliveries.send_due(t0 + timedelta(seconds=29))
    assert len(receiver.requests) == 1
    assert "HTTP 503" in status(delivery).last_error


def test_a_timeout_is_retried_and_the_receiver_drops_the_duplicate(world, receiver):
    receiver.script = ["timeout"]
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    deliveries.send_due(t0)
    assert status(delivery).status == DeliveryStatus.PENDING
    assert "timed out" in delivery.last_error
    deliveries.send_due(t0 + timedelta(minutes=1))
    assert status(delivery).status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 2  # the slow answer was processed, the retry dropped
    assert receiver.processed == {str(delivery.idempotency_key): 1}


def test_a_receiver_that_is_down_is_retried_until_it_is_up(world, receiver):
    channel = webhook(world.org_a, receiver)
    channel.config = {"url": receiver.url.replace(str(receiver.port), "1")}  # nothing listens
    channel.save()
    t0 = timezone.now()
    (delivery,) = queue(channel, now=t0)
    deliveries.send_due(t0)
    assert status(delivery).status == DeliveryStatus.PENDING
    assert "refused" in delivery.last_error.lower() or "URLError" in delivery.last_error
    channel.config = {"url": receiver.url}
    channel.save()
    drain(t0, t0 + timedelta(minutes=2))
    assert status(delivery).status == DeliveryStatus.DELIVERED


def test_a_permanent_refusal_fails_at_once_with_the_reason(world, receiver):
    receiver.script = [404]
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    drain(t0, t0 + timedelta(hours=1))
    delivery = status(delivery)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == "the remote service answered HTTP 404"


def test_it_gives_up_after_max_attempts(world, receiver, settings):
    settings.SENSORGRID_ALERTS_MAX_ATTEMPTS = 3
    receiver.script = [500] * 10
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    drain(t0, t0 + timedelta(hours=2), step=timedelta(minutes=5))
    delivery = status(delivery)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert delivery.last_error == "gave up after 3 attempts: the remote service answered HTTP 500"


def test_a_worker_killed_mid_delivery_is_resent_with_the_same_key_after_its_lease(
    world, receiver, settings
):
    settings.SENSORGRID_ALERTS_DELIVERY_LEASE = 120
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    (claimed,) = deliveries.claim(t0)
    channel_send(claimed.delivery.channel, claimed.delivery)  # sent… then the worker dies
    assert status(delivery).status == DeliveryStatus.SENDING
    assert deliveries.send_due(t0 + timedelta(seconds=60)) == 0  # still leased: not stolen
    assert deliveries.send_due(t0 + timedelta(seconds=121)) == 1
    assert status(delivery).status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert keys == [str(delivery.idempotency_key)] * 2
    assert receiver.processed == {str(delivery.idempotency_key): 1}


def test_a_claimed_delivery_is_not_claimed_again_while_leased(world, receiver):
    t0 = timezone.now()
    queue(webhook(world.org_a, receiver), 3, now=t0)
    first = deliveries.claim(t0, limit=2)
    second = deliveries.claim(t0, limit=10)
    assert len(first) == 2 and len(second) == 1
    assert {c.delivery.pk for c in first}.isdisjoint({c.delivery.pk for c in second})


def test_the_late_result_of_a_worker_whose_lease_expired_does_not_overwrite(world, receiver):
    t0 = timezone.now()
    (delivery,) = queue(webhook(world.org_a, receiver), now=t0)
    (slow,) = deliveries.claim(t0)
    (fast,) = deliveries.claim(t0 + timedelta(minutes=3))  # lease expired, another worker
    assert deliveries.deliver(fast) == DeliveryStatus.DELIVERED
    receiver.script = [500]
    deliveries.deliver(slow)  # its claim token is stale: it records nothing
    assert status(delivery).status == DeliveryStatus.DELIVERED


def test_nothing_is_written_when_the_cause_rolls_back(world, receiver):
    channel = webhook(world.org_a, receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        deliveries.enqueue(channel, "test", {})
        raise RuntimeError
    assert not Delivery.objects.exists()


def test_enqueue_asks_the_worker_after_commit_only(
    world, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SENSORGRID_ALERTS_SEND_AT_ONCE = True
    asked = []
    from sensorgrid.alerts import tasks

    monkeypatch.setattr(tasks, "send_delivery", asked.append)
    channel = webhook(world.org_a, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = deliveries.enqueue(channel, "test", {})
        assert asked == []
    assert asked == [delivery.pk]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers: PostgreSQL pass (the SQLite test database is one shared "
    "in-memory cache that refuses a second writer instead of waiting)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_send_every_delivery_exactly_once(receiver, settings):
    settings.SENSORGRID_ALERTS_RETRY_BASE = 0  # a failed delivery is due again at once
    organization = f.OrganizationFactory()
    receiver.script = [500, 500, "timeout"]  # some failures mixed in
    channel = webhook(organization, receiver)
    t0 = timezone.now()
    queued = queue(channel, 40, now=t0)

    def worker():
        # One clock for both workers, so neither sees the other's lease expire.
        for _ in range(200):
            if not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists():
                break
            deliveries.send_due(t0)

    at_once(worker)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert len(receiver.processed) == len(queued)
    assert set(receiver.processed.values()) == {1}
    assert all(receiver.valid(r) for r in receiver.requests)
    # Only the three scripted failures were sent twice; nothing else twice.
    assert len(receiver.requests) == len(queued) + 3
