"""The broker outbox on /metrics (docs/operations.md, "Broker changes pending").

Pending changes, the age of the oldest and the last reconcile's drift are read from the
database at scrape time (registered by ``BrokerAuthConfig.ready()``); failed attempts
are counted by the worker that made them (multiprocess mode adds the processes up).
"""

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from sensorgrid.brokerauth.models import BrokerChange, ChangeStatus, Reconciliation

APPLY_FAILURES = Counter(
    "sensorgrid_broker_apply_failures",
    "Broker changes not applied at an attempt, by reason: unreachable (the broker is down "
    "or does not answer; retried), refused (the broker said no; kept as failed) or error "
    "(an exception in SensorGrid, e.g. a bad route setting; retried).",
    ["reason"],
)


class OutboxCollector:
    def collect(self) -> Iterator[Metric]:
        changes = GaugeMetricFamily(
            "sensorgrid_broker_changes",
            "Broker changes in the outbox, by status (pending, applying, failed).",
            labels=["status"],
        )
        counts = dict(BrokerChange.objects.values_list("status").annotate(n=Count("pk")).order_by())
        for status in ChangeStatus.values:
            changes.add_metric([status], counts.get(status, 0))
        yield changes

        oldest = BrokerChange.objects.filter(
            status__in=(ChangeStatus.PENDING, ChangeStatus.APPLYING)
        ).aggregate(at=Min("created_at"))["at"]
        now = timezone.now()
        yield GaugeMetricFamily(
            "sensorgrid_broker_oldest_pending_seconds",
            "Age of the oldest broker change not applied yet (0: none pending).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )

        last = Reconciliation.objects.exclude(drift=None).order_by("-started_at", "-pk").first()
        if last is not None:
            yield GaugeMetricFamily(
                "sensorgrid_broker_drift",
                "Broker clients that differed from the inventory at the last reconcile "
                "(and were repaired by it).",
                value=last.drift or 0,
            )
            yield GaugeMetricFamily(
                "sensorgrid_broker_reconcile_age_seconds",
                "Seconds since the last reconcile that ran to its end.",
                value=(now - (last.finished_at or last.started_at)).total_seconds(),
            )
