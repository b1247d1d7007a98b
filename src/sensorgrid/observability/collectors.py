"""Metrics read from the database at scrape time.

They describe shared state (how many nodes are in each health state, how old the
newest worker heartbeat is), so they are computed by whichever process serves the
scrape instead of being kept as gauges by one of them.
"""

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)


class NodeHealthCollector:
    def collect(self) -> Iterator[Metric]:
        from sensorgrid.fidelity import summary
        from sensorgrid.inventory.models import Node
        from sensorgrid.worker import heartbeat

        try:
            counts = summary.counts(Node.objects.all())
            newest = heartbeat.newest()
        except DatabaseError as exc:  # /readyz reports the database; metrics stay up
            log.warning("database metrics skipped: %s", exc)
            return
        nodes = GaugeMetricFamily(
            "sensorgrid_nodes", "Nodes per health state (docs/operations.md).", labels=["status"]
        )
        for status, count in counts.items():
            nodes.add_metric([status], count)
        yield nodes
        if newest is not None:
            yield GaugeMetricFamily(
                "sensorgrid_worker_heartbeat_age_seconds",
                "Seconds since the newest heartbeat of any worker.",
                value=max((timezone.now() - newest).total_seconds(), 0.0),
            )
