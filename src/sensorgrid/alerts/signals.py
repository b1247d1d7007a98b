"""``alert_changed`` is sent after the transaction that changed an alert commits.

Receivers get ``alert`` (the saved ``Alert``) and ``event``: ``opened``, ``resolved``
or ``acknowledged``. The live channel connects here; a receiver that raises is
logged and the others still run (``send_robust``).
"""

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

alert_changed = Signal()


def announce_on_commit(alert, event: str) -> None:
    """Send ``alert_changed`` once the current transaction commits (at once outside one)."""

    def send() -> None:
        for receiver, error in alert_changed.send_robust(
            sender=type(alert), alert=alert, event=event
        ):
            if isinstance(error, Exception):
                log.error("alert_changed receiver %r failed: %s", receiver, error, exc_info=error)

    transaction.on_commit(send)
