"""The periodic sweep: judge every node, record what changed (the worker runs it)."""

from datetime import datetime

from django.utils import timezone

from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.fidelity.states import Thresholds
from sensorgrid.fidelity.transitions import apply, readings
from sensorgrid.inventory.models import Node


def sweep(
    now: datetime | None = None, thresholds: Thresholds | None = None
) -> list[NodeStatusChange]:
    return apply(
        readings(Node.objects.order_by("pk")),
        now or timezone.now(),
        thresholds or Thresholds.from_settings(),
    )
