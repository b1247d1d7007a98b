"""Retention of what STA writes beside the samples: the same raw-data retention per
organization as ``telemetry.retention`` (``Organization.raw_retention_days``).

- Observations of observations-store Datastreams older than the organization's
  retention are deleted, as its raw samples are;
- ``SampleDetails`` of samples past the retention are deleted with them (the sample
  itself is gone: telemetry's prune dropped it).

Run daily by the worker (``sensorthings.tasks``), after telemetry's prune.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as sta
from sensorgrid.tenancy.models import Organization


@dataclass
class Pruned:
    #: organization slug → (Observation rows, SampleDetails rows) deleted
    deleted: dict[str, tuple[int, int]] = field(default_factory=dict)


def prune(now: datetime | None = None) -> Pruned:
    now = now or timezone.now()
    result = Pruned()
    for organization in Organization.objects.filter(raw_retention_days__isnull=False):
        cutoff = now - timedelta(days=organization.raw_retention_days)
        observations = sta.Observation.objects.filter(
            datastream__organization=organization, phenomenon_time__lt=cutoff
        )
        details = sta.SampleDetails.objects.filter(
            node__in=Node.objects.filter(organization=organization).values("pk"), ts__lt=cutoff
        )
        with transaction.atomic():
            rows = observations._raw_delete(observations.db)
            extra = details._raw_delete(details.db)
        if rows or extra:
            result.deleted[organization.slug] = (rows, extra)
    return result
