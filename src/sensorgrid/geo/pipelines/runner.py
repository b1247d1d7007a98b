"""Run a pipeline once and record the run (status, counts, timings, log, error)."""

import logging
import time

from django.db.models import F
from django.utils import timezone

from sensorgrid.geo.models import Pipeline, PipelineRun, RunStatus, Trigger
from sensorgrid.geo.pipelines import registry, sources
from sensorgrid.geo.pipelines.items import (
    Context,
    PipelineError,
    Progress,
    Unusable,
    no_progress,
)
from sensorgrid.geo.pipelines.steps import DEFAULT

log = logging.getLogger(__name__)

#: Skipped records listed one by one in a run's log; the rest are counted.
LOGGED_SKIPS = 200


def run(
    pipeline: Pipeline, trigger: str = Trigger.MANUAL, progress: Progress = no_progress
) -> PipelineRun:
    """Run ``pipeline`` now. A failed run leaves the layer as it was and says why."""
    record = PipelineRun.objects.create(pipeline=pipeline, trigger=trigger)
    context = Context(pipeline=pipeline, options=dict(pipeline.options or {}), progress=progress)
    error, urgent = "", False
    try:
        sources.get(pipeline.source).check_options(context.options)
    except (KeyError, ValueError) as exc:
        error = f"configuration: {exc.args[0]}"
    except Exception as exc:  # options of an unexpected shape
        error = f"configuration: unusable options ({type(exc).__name__}: {exc})"
    for key in () if error else DEFAULT:
        started = time.monotonic()
        try:
            progress(key, 0, None)
            registry.step(key).run(context)
        except PipelineError as exc:
            error, urgent = f"{key}: {exc}", isinstance(exc, Unusable)
        except Exception as exc:  # a bug or an unforeseen answer must not lose the record
            log.exception("pipeline %s: step %s failed", pipeline.key, key)
            # The message may quote what a remote service sent (or internal details):
            # the run record is shown to the pipeline's users, the worker log keeps it.
            error = f"{key}: unexpected {type(exc).__name__} (details in the worker's log)"
        record.timings[key] = round(time.monotonic() - started, 3)
        if error:
            break
    return _finish(record, context, error, urgent)


def _finish(record: PipelineRun, context: Context, error: str, urgent: bool) -> PipelineRun:
    record.finished_at = timezone.now()
    record.status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    record.error = error
    record.skipped = len(context.skips)
    for name in ("created", "updated", "unchanged", "deleted"):
        setattr(record, name, context.counts.get(name, 0))
    lines = list(context.log)
    for skip in context.skips[:LOGGED_SKIPS]:
        lines.append(f"skipped {skip.ref}: {skip.reason}")
    if len(context.skips) > LOGGED_SKIPS:
        lines.append(f"… and {len(context.skips) - LOGGED_SKIPS} more skipped records")
    if error:
        lines.append(f"FAILED {error}; the layer is unchanged")
    record.log = "\n".join(lines)
    record.save()

    pipeline = record.pipeline
    if error:
        Pipeline.objects.filter(pk=pipeline.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        pipeline.refresh_from_db(fields=["consecutive_failures", "failure_mailed"])
        log.warning("pipeline %s failed: %s", pipeline.key, error)
        # An outage mails at its second failure in a row (one failure often passes);
        # unusable data at its first. Once per run of failures either way.
        if not pipeline.failure_mailed and (urgent or pipeline.consecutive_failures >= 2):
            from sensorgrid.geo import notify

            Pipeline.objects.filter(pk=pipeline.pk).update(failure_mailed=True)
            pipeline.failure_mailed = True
            notify.failure(pipeline, record)
    else:
        Pipeline.objects.filter(pk=pipeline.pk).update(consecutive_failures=0, failure_mailed=False)
        pipeline.consecutive_failures, pipeline.failure_mailed = 0, False
    return record
