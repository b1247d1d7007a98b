"""Pictures follow their organization's raw retention (``raw_retention_days``).

A picture older than its organization's retention is deleted with its objects, like
the raw samples beside it (telemetry.retention); organizations without one keep their
pictures. Rows go in chunks, each chunk's objects once its transaction commits, so a
large backlog neither holds one long transaction nor a list of every key in memory.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sensorgrid.images.models import Image
from sensorgrid.tenancy.models import Organization

CHUNK = 500


def prune(now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete expired pictures; returns the count per organization slug (dry run: would)."""
    now = now or timezone.now()
    deleted: dict[str, int] = {}
    for organization in Organization.objects.filter(raw_retention_days__isnull=False):
        cutoff = now - timedelta(days=organization.raw_retention_days)
        expired = Image.objects.filter(node__organization=organization, ts__lt=cutoff)
        if dry_run:
            deleted[organization.slug] = expired.count()
            continue
        total = 0
        while True:
            with transaction.atomic():
                chunk = list(expired.order_by("pk").values_list("pk", flat=True)[:CHUNK])
                if not chunk:
                    break
                # The ORM delete: rows of apps above (outlier scores) cascade, and each
                # picture's post_delete deletes its objects once this chunk commits.
                Image.objects.filter(pk__in=chunk).delete()
            total += len(chunk)
        deleted[organization.slug] = total
    return deleted
