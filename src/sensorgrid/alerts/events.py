"""What alerts announce after the transaction that changed an alert commits.

Consumers (the live channel) are listed in settings
``AFTER_COMMIT_CONSUMERS["sensorgrid.alerts.events.AlertChanged"]``
(``sensorgrid.events``); a consumer that raises is logged and the others still run.
"""

from dataclasses import dataclass

from sensorgrid import events
from sensorgrid.alerts.models import Alert


@dataclass(frozen=True, slots=True)
class AlertChanged:
    alert: Alert  # as saved
    event: str  # opened, resolved or acknowledged


def announce_on_commit(alert: Alert, event: str) -> None:
    """Announce ``AlertChanged`` once the current transaction commits (at once outside one)."""
    events.announce(AlertChanged(alert, event))
