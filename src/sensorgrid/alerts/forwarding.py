"""Forwarders: samples of public installations, batched into outbox deliveries.

Each run reads the samples after the forwarder's cursor — ordered by (ts, node,
quantity), a keyset so a batch never repeats or skips a row — that lie inside a
public installation's period of the forwarder's organization, writes them as one
``samples`` delivery and moves the cursor, in one transaction with the forwarder
row locked. The delivery row is the durable copy: after an outage of the receiver
the outbox retries it; after an outage of the worker the next run resumes from the
cursor. A new forwarder starts at its creation time (no history dump).

Limitation: a sample that arrives late with a timestamp before the cursor is not
forwarded (the cursor follows sample time, there is no insertion sequence).
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sensorgrid.alerts import deliveries
from sensorgrid.alerts.models import Forwarder
from sensorgrid.inventory.models import Installation, Node, Quantity
from sensorgrid.telemetry.models import Sample

log = logging.getLogger(__name__)

MAX_BATCHES_PER_RUN = 20


def _published(forwarder: Forwarder) -> Q | None:
    """Samples inside a public installation period of the forwarder's organization."""
    q = None
    installations = Installation.objects.filter(
        is_public=True, node__organization_id=forwarder.organization_id
    ).values_list("node_id", "start", "end")
    for node_id, start, end in installations:
        part = Q(node_id=node_id, ts__gte=start)
        if end is not None:
            part &= Q(ts__lt=end)
        q = part if q is None else q | part
    return q


def run_due(now: datetime | None = None) -> int:
    """Run every enabled forwarder whose interval has passed; returns deliveries written."""
    now = now or timezone.now()
    written = 0
    for pk in Forwarder.objects.filter(enabled=True).values_list("pk", flat=True):
        try:
            written += run(pk, now)
        except Exception:
            log.exception("forwarder %s failed", pk)
    return written


def run(forwarder_id: int, now: datetime) -> int:
    written = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        with transaction.atomic():
            forwarder = Forwarder.objects.select_for_update().get(pk=forwarder_id)
            if not forwarder.enabled:
                return written
            if (
                written == 0
                and forwarder.last_run_at
                and now < forwarder.last_run_at + timedelta(seconds=forwarder.interval)
            ):
                return written
            forwarder.last_run_at = now
            batch = next_batch(forwarder, now)
            if batch:
                last = batch[-1]
                forwarder.cursor_ts = last.ts
                forwarder.cursor_node, forwarder.cursor_quantity = last.node_id, last.quantity_id
                deliveries.enqueue(
                    forwarder.channel, "samples", _payload(forwarder, batch), now,
                    forwarder=forwarder,
                )  # fmt: skip
                written += 1
            forwarder.save(
                update_fields=["cursor_ts", "cursor_node", "cursor_quantity", "last_run_at"]
            )
        if len(batch) < forwarder.batch_size:
            break
    return written


def next_batch(forwarder: Forwarder, now: datetime) -> list[Sample]:
    published = _published(forwarder)
    if published is None:
        return []
    ts = forwarder.cursor_ts or forwarder.created_at
    after = (
        Q(ts__gt=ts)
        | Q(ts=ts, node_id__gt=forwarder.cursor_node)
        | Q(ts=ts, node_id=forwarder.cursor_node, quantity_id__gt=forwarder.cursor_quantity)
    )
    samples = Sample.objects.filter(published, after, ts__lte=now)
    quantities = list(forwarder.quantities.values_list("pk", flat=True))
    if quantities:
        samples = samples.filter(quantity_id__in=quantities)
    return list(samples.order_by("ts", "node_id", "quantity_id")[: forwarder.batch_size])


def _payload(forwarder: Forwarder, batch: list[Sample]) -> dict:
    devices = dict(
        Node.objects.filter(pk__in={s.node_id for s in batch}).values_list("pk", "device_id")
    )
    keys = dict(Quantity.objects.values_list("pk", "key"))
    return {
        "event": "samples",
        "forwarder": forwarder.pk,
        "samples": [
            {
                "device": devices.get(s.node_id),
                "quantity": keys.get(s.quantity_id),
                "ts": s.ts.isoformat(),
                "value": s.value,
            }
            for s in batch
        ],
    }
