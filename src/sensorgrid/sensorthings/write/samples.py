"""Samples in and out of SensorGrid's time series, for Observations of numeric Datastreams.

In: through the ingest pipeline itself (``pipeline.ingest`` with the SensorGrid JSON
decoder and the node's own authority), so the sample gets the same checks (time within
SensorGrid's bounds, the quantity's plausible range, a suspended organization), the same
writer (rollups, latest values, last_seen) and the same after-commit event (live
updates, health, alerts) as a value sent over MQTT or HTTP.

Out: SensorGrid never deleted single samples before (retention drops whole periods and
keeps the rollups), so this module does it and keeps the rollups exact: an hour or day
whose raw samples are all still stored is recomputed from them; one that retention has
thinned (fewer samples than its count) loses the deleted value's count and sum, and keeps
its minimum and maximum (the pruned samples cannot be read again). The latest value
falls back to the newest remaining sample.
"""

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.isotime import iso
from sensorgrid.sensorthings.errors import StaError
from sensorgrid.telemetry.models import Latest, Resolution, Rollup, Sample, Source

#: The endpoint a sample posted through STA is recorded as coming from.
TOPIC = "/sta/v1.1/Observations"


def ingest(node: Node, quantity: Quantity, ts: datetime, value: float, what: str) -> None:
    """Store one sample through the ingest pipeline; 400 with the pipeline's reason if
    it refuses it, 409 if the series already has a value at that time."""
    payload = json.dumps({"device": node.device_id, "ts": iso(ts), "values": {quantity.key: value}})
    envelope = Envelope(
        source=Source.HTTP,
        topic=TOPIC,
        payload=payload.encode(),
        received_at=timezone.now(),
        content_type="application/json",
        authority=Authority(node.organization_id, node.pk),
    )
    outcome = pipeline.ingest(envelope, "json", keep_dead_letters=False)
    refusal = outcome.refused or (outcome.rejected[0] if outcome.rejected else None)
    if refusal is not None:
        raise StaError(
            400, f"{what}: SensorGrid refused the value ({refusal.reason}: {refusal.detail})."
        )
    if outcome.duplicates:
        raise StaError(
            409,
            f"{what} already has an Observation at {iso(ts)}: a numeric Datastream keeps one "
            "value per time; PATCH that Observation or DELETE it first.",
        )


def ingest_many(
    node: Node, quantity: Quantity, items: Sequence[tuple[datetime, float]]
) -> list[bool]:
    """Store many samples of one series in one pipeline batch (one envelope each, so a
    refusal refuses its own value only); whether each was stored. Times the series holds
    already, or that come twice, are not stored."""
    if not items:
        return []
    held = set(
        Sample.objects.filter(
            node_id=node.pk, quantity_id=quantity.pk, ts__in=[ts for ts, _ in items]
        ).values_list("ts", flat=True)
    )
    received = timezone.now()
    envelopes, positions, stored = [], [], [False] * len(items)
    for position, (ts, value) in enumerate(items):
        if ts in held:
            continue
        held.add(ts)
        document = {"device": node.device_id, "ts": iso(ts), "values": {quantity.key: value}}
        envelopes.append(
            Envelope(
                source=Source.HTTP,
                topic=TOPIC,
                payload=json.dumps(document).encode(),
                received_at=received,
                content_type="application/json",
                authority=Authority(node.organization_id, node.pk),
            )
        )
        positions.append(position)
    batch = pipeline.ingest_many(envelopes, "json", keep_dead_letters=False)
    for position, outcome in zip(positions, batch.outcomes, strict=True):
        stored[position] = outcome.refused is None and not outcome.rejected
    return stored


def delete(node_id: int, quantity_id: int, times: Sequence[datetime]) -> int:
    """Delete the samples of one series at ``times`` and correct its rollups and latest
    value (module docstring). Returns how many samples there were."""
    series = Sample.objects.filter(node_id=node_id, quantity_id=quantity_id)
    removed = list(series.filter(ts__in=list(times)).values_list("ts", "value"))
    if not removed:
        return 0
    doomed = series.filter(ts__in=[ts for ts, _ in removed])
    doomed._raw_delete(doomed.db)
    for resolution in (Resolution.HOUR, Resolution.DAY):
        buckets: dict[datetime, list[float]] = {}
        for ts, value in removed:
            buckets.setdefault(_bucket(ts, resolution), []).append(value)
        for bucket, gone in buckets.items():
            _correct(node_id, quantity_id, resolution, bucket, gone)
    latest = Latest.objects.filter(node_id=node_id, quantity_id=quantity_id)
    if latest.filter(ts__in=[ts for ts, _ in removed]).exists():
        newest = series.order_by("-ts").values_list("ts", "value").first()
        if newest is None:
            latest._raw_delete(latest.db)
        else:
            latest.update(ts=newest[0], value=newest[1])
    return len(removed)


def delete_series(node_id: int, quantity_id: int) -> None:
    """Every sample, rollup and latest value of one series."""
    for model in (Sample, Rollup, Latest):
        rows = model.objects.filter(node_id=node_id, quantity_id=quantity_id)
        rows._raw_delete(rows.db)


def _bucket(ts: datetime, resolution: int) -> datetime:
    start = ts.replace(minute=0, second=0, microsecond=0)
    if resolution == Resolution.DAY:
        start = start.replace(hour=0)
    return start


def _correct(
    node_id: int, quantity_id: int, resolution: int, bucket: datetime, gone: list[float]
) -> None:
    rollup = Rollup.objects.filter(
        node_id=node_id, quantity_id=quantity_id, resolution=resolution, bucket=bucket
    )
    stored = rollup.values_list("count", "sum").first()
    if stored is None:
        return
    count = stored[0] - len(gone)
    if count <= 0:
        rollup._raw_delete(rollup.db)
        return
    raw = Sample.objects.filter(
        node_id=node_id,
        quantity_id=quantity_id,
        ts__gte=bucket,
        ts__lt=bucket + timedelta(seconds=resolution),
    ).aggregate(n=Count("ts"), total=Sum("value"), low=Min("value"), high=Max("value"))
    if raw["n"] == count:  # every sample of the bucket is still there: exact
        rollup.update(count=count, sum=raw["total"], min=raw["low"], max=raw["high"])
    else:  # retention pruned some: what can still be known exactly
        rollup.update(count=count, sum=stored[1] - sum(gone))
