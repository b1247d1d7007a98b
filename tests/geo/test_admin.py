"""Pipelines in the admin: run now, history, read-only features, tenancy."""

import pytest
from django.test import Client
from huey.contrib.djhuey import HUEY

from sensorgrid.geo.models import Feature, PipelineRun, RunStatus, Trigger


@pytest.fixture
def immediate_worker():
    # "Run now" queues a task; run it in the request as an embedded worker would.
    HUEY.immediate = True
    yield
    HUEY.immediate = False


def admin_client(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_run_now_runs_the_pipeline_and_the_history_shows_it(
    world, sources, make_pipeline, immediate_worker
):
    pipeline = make_pipeline(
        "wikipedia", {"url": sources.url("wikipedia.json"), "lat": 52.5, "lon": 13.4}
    )
    client = admin_client(world.alice)

    response = client.post(
        "/admin/geo/pipeline/",
        {"action": "run_now", "_selected_action": [pipeline.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Queued 1 run" in response.content.decode()
    run = PipelineRun.objects.get()
    assert run.trigger == Trigger.ADMIN and run.status == RunStatus.SUCCEEDED
    assert Feature.objects.count() == 3

    page = client.get(f"/admin/geo/pipeline/{pipeline.pk}/change/").content.decode()
    assert "succeeded" in page and "Pipeline runs" in page


def test_an_inspector_cannot_run_a_pipeline(world, sources, make_pipeline, immediate_worker):
    pipeline = make_pipeline(
        "wikipedia", {"url": sources.url("wikipedia.json"), "lat": 52.5, "lon": 13.4}
    )
    client = admin_client(world.bob)
    client.post("/admin/geo/pipeline/", {"action": "run_now", "_selected_action": [pipeline.pk]})
    assert not PipelineRun.objects.exists()


def test_strangers_do_not_see_other_organizations_pipelines(world, make_pipeline):
    pipeline = make_pipeline("geojson", {"url": "http://example.org/x.geojson"})
    client = admin_client(world.charlie)
    assert client.get(f"/admin/geo/pipeline/{pipeline.pk}/change/").status_code in (302, 404)
    assert pipeline.key not in client.get("/admin/geo/pipeline/").content.decode()


def test_a_pipeline_can_be_defined_in_the_admin(world):
    from sensorgrid.geo.models import Layer, Pipeline

    layer = Layer.objects.create(organization=world.org_a, key="stands", name="Stands")
    client = admin_client(world.alice)
    response = client.post(
        "/admin/geo/pipeline/add/",
        {
            "key": "stands-csv",
            "name": "",
            "layer": layer.pk,
            "source": "csv",
            "options": '{"url": "https://example.org/stands.csv", "mapping": {"id": "id"}}',
            "schedule": "0 4 * * *",
            "enabled": "on",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Pipeline.objects.get().next_run_at is not None

    bad = client.post(
        "/admin/geo/pipeline/add/",
        {
            "key": "bad",
            "layer": layer.pk,
            "source": "overpass",
            "options": '{"query": "node;out;"}',
            "schedule": "every day",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
        },
    )
    assert bad.status_code == 200
    assert (
        "[out:json]" in bad.content.decode() and "is not a cron expression" in bad.content.decode()
    )


def test_features_are_read_only_in_the_admin(world, sources, make_pipeline):
    client = admin_client(world.alice)
    assert client.get("/admin/geo/feature/add/").status_code == 403
