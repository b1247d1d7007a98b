"""Pipeline runs on the worker: the scheduler every minute, and runs asked for now."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sensorgrid.geo import schedule
from sensorgrid.geo.models import Pipeline, Trigger

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"), name="geo.scheduled_pipelines")
def scheduled_pipelines() -> int:
    """Run the due pipelines (safe in several workers: each run is claimed once)."""
    return len(schedule.run_due())


@db_task(name="geo.run_pipeline")
def run_pipeline(pipeline_id: int, trigger: str = Trigger.ADMIN) -> str | None:
    """A run asked for from the admin ("run now"); returns the run's status."""
    from sensorgrid.geo.pipelines import runner

    pipeline = Pipeline.objects.select_related("layer").filter(pk=pipeline_id).first()
    if pipeline is None:
        log.info("pipeline %s was deleted before its run", pipeline_id)
        return None
    return runner.run(pipeline, trigger).status
