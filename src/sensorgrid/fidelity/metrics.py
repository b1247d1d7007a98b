"""Node health on /metrics: how many nodes are in each state, read at scrape time.

Registered with ``sensorgrid.observability.collectors`` by ``FidelityConfig.ready()``.
"""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from sensorgrid.fidelity import summary
from sensorgrid.inventory.models import Node


class NodeHealthCollector:
    def collect(self) -> Iterator[Metric]:
        nodes = GaugeMetricFamily(
            "sensorgrid_nodes", "Nodes per health state (docs/operations.md).", labels=["status"]
        )
        for status, count in summary.counts(Node.objects.all()).items():
            nodes.add_metric([status], count)
        yield nodes
