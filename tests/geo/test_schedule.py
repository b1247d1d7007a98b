"""Cron schedules on the worker: due pipelines run once, also with two workers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from sensorgrid.geo import cron, schedule
from sensorgrid.geo.models import Pipeline, PipelineRun, RunStatus, Trigger
from sensorgrid.geo.pipelines import runner
from sensorgrid.geo.tasks import scheduled_pipelines
from tests.concurrency import at_once

ON_POSTGRES = connection.vendor == "postgresql"


def test_next_after_follows_the_cron_expression_in_utc():
    after = datetime(2026, 11, 23, 3, 17, tzinfo=UTC)
    assert cron.next_after("17 3 * * *", after) == datetime(2026, 11, 24, 3, 17, tzinfo=UTC)
    assert cron.next_after("*/15 * * * *", after) == datetime(2026, 11, 23, 3, 30, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["every day", "61 * * * *", "* * * *", "* * * * * *"])
def test_a_bad_cron_expression_is_refused_with_an_example(world, make_pipeline, expression):
    pipeline = make_pipeline("geojson", {"url": "http://example.org/x.geojson"})
    pipeline.schedule = expression
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    assert "17 3 * * *" in str(caught.value.message_dict["schedule"])


def test_saving_a_schedule_sets_the_next_run_and_disabling_clears_it(make_pipeline):
    pipeline = make_pipeline("geojson", {"url": "http://example.org/x.geojson"})
    assert pipeline.next_run_at is None  # on demand only
    pipeline.schedule = "0 * * * *"
    pipeline.save()
    assert timezone.now() < pipeline.next_run_at <= timezone.now() + timedelta(hours=1)
    pipeline.enabled = False
    pipeline.save()
    assert pipeline.next_run_at is None


def test_the_minute_task_runs_due_pipelines_once_and_schedules_the_next(sources, make_pipeline):
    pipeline = make_pipeline(
        "wikipedia", {"url": sources.url("wikipedia.json"), "lat": 52.5, "lon": 13.4}
    )
    pipeline.schedule = "*/5 * * * *"
    pipeline.save()
    not_yet = scheduled_pipelines.call_local()
    assert not_yet == 0

    past = timezone.now() - timedelta(minutes=1)
    Pipeline.objects.filter(pk=pipeline.pk).update(next_run_at=past)
    assert scheduled_pipelines.call_local() == 1
    assert scheduled_pipelines.call_local() == 0  # claimed: not again

    run = PipelineRun.objects.get()
    assert run.trigger == Trigger.SCHEDULE and run.status == RunStatus.SUCCEEDED
    pipeline.refresh_from_db()
    assert timezone.now() < pipeline.next_run_at <= timezone.now() + timedelta(minutes=5)


def test_a_disabled_or_unscheduled_pipeline_never_runs_on_its_own(make_pipeline):
    pipeline = make_pipeline("geojson", {"url": "http://example.org/x.geojson"})
    Pipeline.objects.filter(pk=pipeline.pk).update(next_run_at=timezone.now() - timedelta(days=1))
    assert schedule.run_due() == []
    pipeline.schedule = "* * * * *"
    pipeline.enabled = False
    pipeline.save()
    Pipeline.objects.filter(pk=pipeline.pk).update(next_run_at=timezone.now() - timedelta(days=1))
    assert schedule.run_due() == []


def test_only_one_of_two_workers_claims_a_due_run(make_pipeline):
    pipeline = make_pipeline("geojson", {"url": "http://example.org/x.geojson"})
    pipeline.schedule = "* * * * *"
    pipeline.save()
    Pipeline.objects.filter(pk=pipeline.pk).update(
        next_run_at=timezone.now() - timedelta(minutes=1)
    )
    seen_by_a = Pipeline.objects.get(pk=pipeline.pk)
    seen_by_b = Pipeline.objects.get(pk=pipeline.pk)
    now = timezone.now()
    assert schedule.claim(seen_by_a, now) is True
    assert schedule.claim(seen_by_b, now) is False


def test_runs_left_running_by_a_dead_worker_are_marked_failed(make_pipeline):
    pipeline = make_pipeline("geojson", {"url": "http://example.org/x.geojson"})
    stale = PipelineRun.objects.create(
        pipeline=pipeline, started_at=timezone.now() - timedelta(days=1)
    )
    fresh = PipelineRun.objects.create(pipeline=pipeline)
    assert schedule.fail_stale(timezone.now()) == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RunStatus.FAILED and "worker stopped" in stale.error
    assert fresh.status == RunStatus.RUNNING


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_run_a_due_pipeline_exactly_once(sources, make_pipeline):
    pipeline = make_pipeline(
        "wikipedia", {"url": sources.url("wikipedia.json"), "lat": 52.5, "lon": 13.4}
    )
    pipeline.schedule = "* * * * *"
    pipeline.save()
    Pipeline.objects.filter(pk=pipeline.pk).update(
        next_run_at=timezone.now() - timedelta(minutes=1)
    )
    results = at_once(lambda: len(schedule.run_due()))
    assert sorted(results) == [0, 1]
    assert PipelineRun.objects.filter(pipeline=pipeline).count() == 1


@pytest.mark.parametrize(
    ("source", "options", "field"),
    [
        ("nope", {}, "source"),
        ("overpass", {"query": 5}, "options"),
        ("overpass", [], "options"),
        ("ical", {"url": "https://example.org/x.ics", "locations": [1, 2]}, "options"),
        ("wikipedia", {"lat": 1, "lon": 2, "radius": [1]}, "options"),
        ("csv", {"url": "ftp://example.org/x.csv"}, "options"),
        ("csv", {"url": "https://example.org/x.csv", "mapping": {"types": [1]}}, "options"),
        ("csv", {"url": "https://example.org/x.csv", "mapping": {"nope": 1}}, "options"),
    ],
)
def test_unusable_options_are_a_validation_error_and_a_failed_run(
    make_pipeline, source, options, field
):
    pipeline = make_pipeline("csv", {"url": "https://example.org/x.csv"})
    pipeline.source, pipeline.options = source, options
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    assert field in caught.value.message_dict
    pipeline.save()
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED and run.error.startswith("configuration:")
