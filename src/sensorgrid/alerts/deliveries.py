"""The transactional outbox: every outbound message is a ``Delivery`` row.

``enqueue`` writes the row in the caller's transaction (so a message exists if and
only if what caused it committed) and, once committed, asks the worker to send it
at once. ``send_due`` is what the worker runs: it claims due deliveries, sends each
outside any transaction and records the outcome.

Claiming is a conditional UPDATE (``WHERE status = … AND attempts = …``), so of
two workers that picked the same row only one sends it; on PostgreSQL the
candidates are read with ``FOR UPDATE SKIP LOCKED`` so workers do not even pick the
same rows. A claim is a lease: a worker killed mid-delivery leaves the row
``sending`` until ``claimed_until``, after which any worker sends it again with the
same idempotency key, so the receiver can drop the duplicate.

Failures are retried with exponential backoff (``next_attempt_at`` in the row, so
the queue survives restarts) until ``SENSORGRID_ALERTS_MAX_ATTEMPTS``; a permanent
failure (e.g. HTTP 404) stops at once. Both record ``last_error``.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from sensorgrid.alerts.channels import SendError, send
from sensorgrid.alerts.models import Channel, Delivery, DeliveryStatus

log = logging.getLogger(__name__)


def enqueue(
    channel: Channel, event: str, payload: dict, now: datetime | None = None, **links
) -> Delivery:
    """Write a delivery in the current transaction; the worker is asked after commit."""
    delivery = Delivery.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        event=event,
        payload=payload,
        next_attempt_at=now or timezone.now(),
        **links,
    )
    transaction.on_commit(lambda: kick(delivery.pk))
    return delivery


def kick(delivery_id: int) -> None:
    """Ask a worker to send one delivery now (the periodic task catches what this misses)."""
    if not settings.SENSORGRID_ALERTS_SEND_AT_ONCE:
        return
    from sensorgrid.alerts.tasks import send_delivery

    try:
        send_delivery(delivery_id)
    except Exception:  # the queue is down: the row waits for the periodic task
        log.warning("could not enqueue delivery %s; the periodic task will send it", delivery_id)


def backoff(attempts: int) -> timedelta:
    """Delay after the ``attempts``-th failed attempt: base × 2^(attempts − 1), capped."""
    base = float(settings.SENSORGRID_ALERTS_RETRY_BASE)
    cap = float(settings.SENSORGRID_ALERTS_RETRY_MAX)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery: Delivery
    claim: uuid.UUID


def _due(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )


def claim(now: datetime, limit: int = 20, only: int | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries for this worker (see the module docstring)."""
    lease = timedelta(seconds=float(settings.SENSORGRID_ALERTS_DELIVERY_LEASE))
    claimed: list[tuple[int, uuid.UUID]] = []
    with transaction.atomic():
        candidates = Delivery.objects.filter(_due(now)).order_by("next_attempt_at", "pk")
        if only is not None:
            candidates = candidates.filter(pk=only)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        for status, pk, attempts in candidates.values_list("status", "pk", "attempts")[:limit]:
            token = uuid.uuid4()
            won = Delivery.objects.filter(pk=pk, status=status, attempts=attempts).update(
                status=DeliveryStatus.SENDING,
                attempts=F("attempts") + 1,
                claim=token,
                claimed_until=now + lease,
            )
            if won:
                claimed.append((pk, token))
    rows = Delivery.objects.select_related("channel").in_bulk([pk for pk, _ in claimed])
    return [Claimed(rows[pk], token) for pk, token in claimed if pk in rows]


def deliver(item: Claimed, now: datetime | None = None) -> str:
    """Send one claimed delivery and record the outcome; returns the new status."""
    delivery = item.delivery
    channel = delivery.channel
    mine = Delivery.objects.filter(pk=delivery.pk, claim=item.claim, status=DeliveryStatus.SENDING)
    max_attempts = int(settings.SENSORGRID_ALERTS_MAX_ATTEMPTS)
    try:
        if not channel.enabled:
            raise SendError("the channel is disabled", retryable=False)
        send(channel, delivery)
    except SendError as exc:
        now = now or timezone.now()
        if exc.retryable and delivery.attempts < max_attempts:
            mine.update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=now + backoff(delivery.attempts),
                last_error=str(exc)[:2000],
                claim=None,
                claimed_until=None,
            )
            log.info("delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, exc)
            return DeliveryStatus.PENDING
        reason = (
            str(exc) if not exc.retryable else f"gave up after {delivery.attempts} attempts: {exc}"
        )
        mine.update(status=DeliveryStatus.FAILED, last_error=reason[:2000], claim=None)
        log.warning("delivery %s failed: %s", delivery.pk, reason)
        return DeliveryStatus.FAILED
    mine.update(
        status=DeliveryStatus.DELIVERED,
        delivered_at=now or timezone.now(),
        last_error="",
        claim=None,
    )
    return DeliveryStatus.DELIVERED


def send_due(now: datetime | None = None, limit: int = 200, only: int | None = None) -> int:
    """Send what is due (at most ``limit``); returns how many deliveries were attempted."""
    done = 0
    while done < limit:
        batch = claim(now or timezone.now(), min(20, limit - done), only)
        if not batch:
            break
        for item in batch:
            try:
                deliver(item, now)
            except Exception:  # a bug in a channel must not stop the others
                log.exception("delivery %s crashed; retried after its lease", item.delivery.pk)
            done += 1
    return done
