"""Raw-sample retention per organization. Rollups are never pruned.

Where every organization with nodes has a retention, whole monthly partitions older
than the longest retention are dropped (cheap, no vacuum); the remaining expired
rows of organizations with shorter retention are deleted row by row.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sensorgrid.inventory.models import Node
from sensorgrid.telemetry import partitions
from sensorgrid.telemetry.models import Sample
from sensorgrid.tenancy.models import Organization


@dataclass
class Pruned:
    dropped_partitions: list[str] = field(default_factory=list)
    deleted_rows: dict[str, int] = field(default_factory=dict)  # organization slug → rows


def prune(now: datetime | None = None, dry_run: bool = False) -> Pruned:
    now = now or timezone.now()
    result = Pruned()
    with_nodes = Organization.objects.filter(nodes__isnull=False).distinct()
    retentions = list(with_nodes.values_list("slug", "raw_retention_days"))
    if retentions and all(days for _, days in retentions) and partitions.is_partitioned():
        cutoff = now - timedelta(days=max(days for _, days in retentions))
        if dry_run:
            result.dropped_partitions = [
                p.name for p in partitions.existing() if partitions.ends_by(p, cutoff)
            ]
        else:
            result.dropped_partitions = partitions.drop_before(cutoff)
    for organization in Organization.objects.filter(raw_retention_days__isnull=False):
        cutoff = now - timedelta(days=organization.raw_retention_days)
        expired = Sample.objects.filter(
            node__in=Node.objects.filter(organization=organization).values("pk"), ts__lt=cutoff
        )
        if dry_run:
            result.deleted_rows[organization.slug] = expired.count()
            continue
        with transaction.atomic():
            result.deleted_rows[organization.slug] = expired._raw_delete(expired.db)
    return result
