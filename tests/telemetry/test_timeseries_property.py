"""Rollup-backed 1h/1d aggregates equal the same aggregates of the stored raw samples.

Samples arrive in random batches, out of order and repeated (sometimes with another
value: the first one stored wins), exactly as devices send them.
"""

import json
import math
import random
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorgrid.ingest import cache, pipeline
from sensorgrid.inventory.models import Quantity
from sensorgrid.telemetry import timeseries
from sensorgrid.telemetry.models import Sample
from tests.ingest.conftest import envelope
from tests.telemetry.timeseries_helpers import BASE

SPAN_MS = 2 * 86400 * 1000  # samples fall on BASE's day and the next

samples = st.lists(
    st.tuples(
        st.integers(0, SPAN_MS - 1),
        st.sampled_from(["co2", "temperature"]),
        st.floats(-50, 90, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


def ts_of(ms: int) -> datetime:
    return BASE + timedelta(milliseconds=ms)


def expected(rows, start, end, seconds) -> dict[tuple[int, datetime], list[float]]:
    groups: dict[tuple[int, datetime], list[float]] = defaultdict(list)
    for quantity_id, ts, value in rows:
        if start <= ts < end:
            groups[(quantity_id, timeseries.floor_to(ts, seconds))].append(value)
    return groups


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    # The world fixture is shared on purpose: each example rolls its samples back.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    samples=samples,
    repeats=st.lists(st.tuples(st.integers(0, 39), st.booleans()), max_size=10),
    seed=st.integers(0, 2**32 - 1),
    window=st.tuples(st.integers(-SPAN_MS // 4, SPAN_MS), st.integers(1, SPAN_MS)),
)
def test_rollup_aggregates_equal_raw_aggregates(world, samples, repeats, seed, window):
    messages = [(ms, {key: value}) for ms, key, value in samples]
    for index, same_value in repeats:  # duplicates, possibly with a different value
        ms, values = messages[index % len(messages)]
        messages.append((ms, values if same_value else {k: v / 2 for k, v in values.items()}))
    rng = random.Random(seed)
    rng.shuffle(messages)  # late samples
    start = ts_of(window[0])
    end = start + timedelta(milliseconds=window[1])
    ids = dict(Quantity.objects.filter(key__in=["co2", "temperature"]).values_list("key", "pk"))
    cache.directory.clear()
    with transaction.atomic():
        while messages:
            size = rng.randint(1, len(messages))
            batch, messages = messages[:size], messages[size:]
            body = [
                {"device": world.node_a.device_id, "ts": ts_of(ms).isoformat(), "values": v}
                for ms, v in batch
            ]
            pipeline.ingest(envelope(json.dumps(body).encode()), "json")
        stored = list(
            Sample.objects.filter(node=world.node_a).values_list("quantity_id", "ts", "value")
        )
        for seconds, bucket in [(3600, "1h"), (86400, "1d")]:
            groups = expected(stored, start, end, seconds)
            for agg in timeseries.Agg:
                got = timeseries.query(world.node_a.pk, list(ids.values()), start, end, bucket, agg)
                for quantity_id, points in got.items():
                    want = sorted(
                        (ts, _aggregate(values, agg))
                        for (q, ts), values in groups.items()
                        if q == quantity_id
                    )
                    assert [p.ts for p in points] == [ts for ts, _ in want], (bucket, agg)
                    for point, (_, value) in zip(points, want, strict=True):
                        assert math.isclose(point.value, value, rel_tol=1e-9, abs_tol=1e-9), (
                            bucket,
                            agg,
                            point,
                            value,
                        )
        transaction.set_rollback(True)
    cache.directory.clear()


def _aggregate(values: list[float], agg: timeseries.Agg) -> float:
    return {
        timeseries.Agg.AVG: lambda: math.fsum(values) / len(values),
        timeseries.Agg.SUM: lambda: math.fsum(values),
        timeseries.Agg.MIN: lambda: min(values),
        timeseries.Agg.MAX: lambda: max(values),
        timeseries.Agg.COUNT: lambda: len(values),
    }[agg]()
