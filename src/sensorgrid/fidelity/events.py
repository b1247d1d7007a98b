"""What fidelity announces after the transaction that recorded health changes commits.

Consumers (the live channel, node-health alert rules) are listed in settings
``AFTER_COMMIT_CONSUMERS["sensorgrid.fidelity.events.StatusChanged"]``
(``sensorgrid.events``); a consumer that raises is logged and the others still run.
"""

from dataclasses import dataclass

from sensorgrid.fidelity.models import NodeStatusChange


@dataclass(frozen=True, slots=True)
class StatusChanged:
    changes: tuple[NodeStatusChange, ...]  # saved rows, in the order they were recorded
