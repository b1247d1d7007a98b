"""Nodes that deliver again become ALIVE at once, not at the next sweep.

Runs as an ingest hook after each committed batch: one indexed query for the
batch's nodes that are not ALIVE (usually none), then the same conditional
transitions as the sweep.
"""

from django.utils import timezone

from sensorgrid.fidelity.states import Thresholds
from sensorgrid.fidelity.transitions import apply, readings
from sensorgrid.ingest.hooks import Committed
from sensorgrid.inventory.models import Node, NodeStatus


def after_ingest(report: Committed) -> None:
    if not report.newest:
        return
    # Usually none: one narrow indexed query, the join for the intervals only if needed.
    quiet = list(
        Node.objects.filter(pk__in=list(report.newest))
        .exclude(status=NodeStatus.ALIVE)
        .values_list("pk", flat=True)
    )
    if quiet:
        nodes = Node.objects.filter(pk__in=quiet)
        apply(readings(nodes, stream=False), timezone.now(), Thresholds.from_settings())
