"""When pipelines run: cron expressions (UTC) and the claim that keeps runs single.

Each pipeline stores its ``next_run_at``. The worker's minute task looks for due ones
and claims each with a conditional UPDATE that moves ``next_run_at`` to the following
occurrence only if it still holds the value the worker saw; the worker whose UPDATE
changed the row runs the pipeline, every other worker skips it. A worker that was
down runs an overdue pipeline once, not once per missed occurrence.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sensorgrid.geo.cron import next_after
from sensorgrid.geo.models import Pipeline, PipelineRun, RunStatus, Trigger

log = logging.getLogger(__name__)


def due(now: datetime | None = None):
    now = now or timezone.now()
    return (
        Pipeline.objects.filter(enabled=True, next_run_at__lte=now)
        .exclude(schedule="")
        .select_related("layer")
        .order_by("next_run_at", "pk")
    )


def claim(pipeline: Pipeline, now: datetime) -> bool:
    """Whether this worker got ``pipeline``'s due run (moves its next_run_at forward)."""
    following = next_after(pipeline.schedule, now)
    won = Pipeline.objects.filter(
        pk=pipeline.pk, enabled=True, next_run_at=pipeline.next_run_at
    ).update(next_run_at=following)
    if won:
        pipeline.next_run_at = following
    return bool(won)


def run_due(now: datetime | None = None) -> list[PipelineRun]:
    """Run every due pipeline this worker can claim; returns the runs."""
    from sensorgrid.geo.pipelines import runner

    now = now or timezone.now()
    fail_stale(now)
    runs = []
    for pipeline in due(now):
        if not claim(pipeline, now):
            continue
        log.info("pipeline %s: scheduled run", pipeline.key)
        runs.append(runner.run(pipeline, Trigger.SCHEDULE))
    return runs


def fail_stale(now: datetime) -> int:
    """Runs still 'running' long after any run could take: their worker died."""
    limit = timedelta(seconds=settings.SENSORGRID_GEO_RUN_TIMEOUT)
    return PipelineRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - limit).update(
        status=RunStatus.FAILED,
        finished_at=now,
        error="the worker stopped during the run (no result after "
        f"{int(limit.total_seconds())} s); the layer keeps its data",
    )
