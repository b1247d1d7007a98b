"""Nodes that deliver again become ALIVE at once, not at the next sweep.

Follows each committed ingest batch (settings ``AFTER_COMMIT_CONSUMERS``). The
statement that moved the nodes' last_seen also told which of them were not ALIVE
(``Committed.quiet``, usually none); only those with new samples go through the same
conditional transitions as the sweep.
"""

from django.utils import timezone

from sensorgrid.fidelity.states import Thresholds
from sensorgrid.fidelity.transitions import apply, readings
from sensorgrid.ingest.events import Committed
from sensorgrid.inventory.models import Node


def after_ingest(report: Committed) -> None:
    quiet = report.quiet & report.newest.keys()
    if quiet:
        nodes = Node.objects.filter(pk__in=quiet)
        apply(readings(nodes, stream=False), timezone.now(), Thresholds.from_settings())
