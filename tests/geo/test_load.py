"""Upsert by external id, deletion of what the source dropped, failures leave data intact."""

import json

from django.core import mail

from sensorgrid.geo.models import Feature, Pipeline, RunStatus
from sensorgrid.geo.pipelines import runner


def collection(*points: tuple[str, float, dict]) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": fid,
                    "geometry": {"type": "Point", "coordinates": [lon, 52.5]},
                    "properties": props,
                }
                for fid, lon, props in points
            ],
        }
    )


def snapshot(pipeline) -> dict:
    return {
        f.external_id: (f.geometry, f.properties, f.updated_at)
        for f in Feature.objects.filter(layer=pipeline.layer)
    }


def test_a_second_run_updates_changed_features_and_deletes_those_gone(sources, make_pipeline):
    sources.answer(
        "stands.geojson",
        collection(("a", 13.1, {"n": 1}), ("b", 13.2, {"n": 2}), ("c", 13.3, {"n": 3})),
    )
    pipeline = make_pipeline("geojson", {"url": sources.url("stands.geojson")})
    first = runner.run(pipeline)
    assert (first.created, first.updated, first.deleted) == (3, 0, 0)
    ids_before = dict(Feature.objects.values_list("external_id", "pk"))

    sources.answer(
        "stands.geojson",
        collection(("a", 13.1, {"n": 1}), ("b", 13.25, {"n": 2}), ("d", 13.4, {"n": 4})),
    )
    second = runner.run(pipeline)

    assert second.status == RunStatus.SUCCEEDED
    assert (second.created, second.updated, second.unchanged, second.deleted) == (1, 1, 1, 1)
    after = dict(Feature.objects.values_list("external_id", "pk"))
    assert set(after) == {"a", "b", "d"}
    assert after["a"] == ids_before["a"] and after["b"] == ids_before["b"]  # updated in place
    moved = Feature.objects.get(external_id="b")
    assert moved.geometry["coordinates"] == [13.25, 52.5]
    assert moved.min_x == moved.max_x == 13.25


def test_a_broken_source_leaves_the_layer_untouched_and_records_why(sources, make_pipeline):
    sources.answer("stands.geojson", collection(("a", 13.1, {}), ("b", 13.2, {})))
    pipeline = make_pipeline("geojson", {"url": sources.url("stands.geojson")})
    runner.run(pipeline)
    before = snapshot(pipeline)

    for status, body, expected in [
        (500, "Internal Server Error", "answered HTTP 500"),
        (200, "<html>Maintenance</html>", "is not JSON"),
        (200, '{"type": "Topology"}', "not a GeoJSON FeatureCollection"),
    ]:
        sources.answer("stands.geojson", body, status=status)
        run = runner.run(pipeline)
        assert run.status == RunStatus.FAILED
        assert expected in run.error
        assert run.finished_at is not None and "the layer is unchanged" in run.log
        assert snapshot(pipeline) == before


def test_an_unreachable_source_is_a_failed_run_not_a_crash(make_pipeline):
    from tests.servers import free_port

    pipeline = make_pipeline("geojson", {"url": f"http://127.0.0.1:{free_port()}/x.geojson"})
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert "cannot fetch" in run.error
    assert "fetch" in run.timings


def test_an_empty_answer_does_not_wipe_the_layer_unless_allowed(sources, make_pipeline):
    sources.answer("stands.geojson", collection(("a", 13.1, {})))
    pipeline = make_pipeline("geojson", {"url": sources.url("stands.geojson")})
    runner.run(pipeline)
    sources.answer("stands.geojson", collection())

    refused = runner.run(pipeline)
    assert refused.status == RunStatus.FAILED and "allow_empty" in refused.error
    assert Feature.objects.count() == 1

    pipeline.options["allow_empty"] = True
    pipeline.save()
    allowed = runner.run(pipeline)
    assert allowed.status == RunStatus.SUCCEEDED and allowed.deleted == 1
    assert Feature.objects.count() == 0


def test_two_pipelines_of_one_layer_delete_only_their_own_features(sources, make_pipeline):
    sources.answer("one.geojson", collection(("one-1", 13.1, {})))
    sources.answer("two.geojson", collection(("two-1", 13.2, {})))
    first = make_pipeline("geojson", {"url": sources.url("one.geojson")}, key="one")
    second = Pipeline.objects.create(
        key="two", layer=first.layer, source="geojson", options={"url": sources.url("two.geojson")}
    )
    runner.run(first)
    runner.run(second)
    sources.answer("one.geojson", collection(("one-2", 13.3, {})))
    runner.run(first)
    assert set(Feature.objects.values_list("external_id", flat=True)) == {"one-2", "two-1"}


def test_duplicate_ids_in_one_answer_keep_the_first_and_report_the_rest(sources, make_pipeline):
    sources.answer("dup.geojson", collection(("a", 13.1, {"v": 1}), ("a", 13.2, {"v": 2})))
    pipeline = make_pipeline("geojson", {"url": sources.url("dup.geojson")})
    run = runner.run(pipeline)
    assert Feature.objects.get().properties == {"v": 1}
    assert run.skipped == 1 and "duplicate id 'a'" in run.log


def test_owners_are_mailed_when_a_pipeline_fails_twice_in_a_row(world, sources, make_pipeline):
    sources.answer("flaky.geojson", "down", status=503)
    pipeline = make_pipeline("geojson", {"url": sources.url("flaky.geojson")}, key="flaky")

    runner.run(pipeline)
    assert mail.outbox == []
    runner.run(pipeline)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.alice.email]  # owners only: not bob the inspector, not charlie
    assert "flaky" in message.subject and "twice" in message.subject
    assert "HTTP 503" in message.body

    runner.run(pipeline)  # a third failure in a row: no second mail
    assert len(mail.outbox) == 1

    sources.answer("flaky.geojson", collection(("a", 13.1, {})))
    runner.run(pipeline)
    pipeline.refresh_from_db()
    assert pipeline.consecutive_failures == 0
    sources.answer("flaky.geojson", "down", status=503)
    runner.run(pipeline)
    runner.run(pipeline)
    assert len(mail.outbox) == 2  # the count starts again after a success


def test_a_pipeline_with_bad_options_fails_with_the_reason(make_pipeline):
    pipeline = make_pipeline("overpass", {"query": "node[amenity=bench];out;"})
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("configuration:") and "[out:json]" in run.error
