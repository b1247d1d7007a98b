"""Dead letters are kept ``SENSORGRID_DEAD_LETTER_RETENTION_DAYS`` after their last refusal.

Without a limit a sender with a bad payload fills the table for ever. Counted from
``last_received_at``: a refusal that keeps coming back keeps its one letter.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sensorgrid.telemetry.models import DeadLetter

#: rows deleted per statement, so a large backlog never holds a long lock
CHUNK = 10_000


def prune(now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete (or with ``dry_run`` count) the expired letters; 0 days keeps them all."""
    days = settings.SENSORGRID_DEAD_LETTER_RETENTION_DAYS
    if days <= 0:
        return 0
    expired = DeadLetter.objects.filter(
        last_received_at__lt=(now or timezone.now()) - timedelta(days=days)
    )
    if dry_run:
        return expired.count()
    deleted = 0
    while True:
        ids = list(expired.values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return deleted
        deleted += DeadLetter.objects.filter(pk__in=ids).delete()[0]
