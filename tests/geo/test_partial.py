"""Partial answers never delete data (issue 18, item 13)."""

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from sensorgrid.geo.models import Feature, PipelineRun, RunStatus
from sensorgrid.geo.pipelines import runner
from tests.geo.wfs_service import WFS

#: Construction sites in EPSG:25833 (easting, northing), as the OGC examples' service.
SITES = [
    ("Alexanderplatz", 392081.04, 5820154.85),
    ("Pariser Platz", 389918.04, 5819699.13),
    ("Molkenmarkt", 392300.0, 5819500.0),
]


def titles(pipeline) -> set[str]:
    return {f.properties["titel"] for f in Feature.objects.filter(layer=pipeline.layer)}


@pytest.fixture
def wfs(sources, make_pipeline):
    service = WFS(list(SITES), formats=("application/gml+xml; version=3.2",))
    sources.serve("wfs", service)
    pipeline = make_pipeline("wfs", {"url": sources.url("wfs"), "type_name": "ms:baustellen"})
    return service, pipeline


def test_wfs_2_pages_through_the_whole_collection(wfs):
    service, pipeline = wfs
    service.count_default = 1  # the server returns one feature per answer

    run = runner.run(pipeline)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert titles(pipeline) == {name for name, _, _ in SITES}
    pages = [r for r in service.requests if r["request"] == "GetFeature"]
    assert [(p.get("count"), p.get("startindex")) for p in pages] == [
        ("1", None),
        ("1", "1"),
        ("1", "2"),
    ]


@pytest.mark.parametrize(
    ("knob", "value", "words"),
    [
        ("lie_matched", 5, "incomplete: 5 features match, 3 came"),
        ("lie_returned", 4, "truncated: it says 4 features were returned but holds 3"),
    ],
)
def test_an_answer_that_says_it_is_incomplete_fails_and_keeps_the_layer(wfs, knob, value, words):
    service, pipeline = wfs
    runner.run(pipeline)
    before = titles(pipeline)
    setattr(service, knob, value)

    run = runner.run(pipeline)

    assert run.status == RunStatus.FAILED
    assert words in run.error
    assert titles(pipeline) == before and len(before) == 3


def test_a_server_that_cannot_page_and_holds_back_features_fails_the_run(wfs):
    service, pipeline = wfs
    service.paging, service.count_default = False, 2
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert "incomplete: 3 features match, 2 came" in run.error
    assert not Feature.objects.exists()


def test_a_server_that_ignores_start_index_fails_instead_of_repeating_page_one(wfs):
    service, pipeline = wfs
    runner.run(pipeline)
    service.count_default, service.ignore_start = 1, True

    run = runner.run(pipeline)

    assert run.status == RunStatus.FAILED
    assert "startIndex=1 with a page it sent before" in run.error
    assert len(titles(pipeline)) == 3


def test_a_geojson_answer_cut_off_in_transfer_fails_and_keeps_the_layer(sources, make_pipeline):
    whole = {
        "type": "FeatureCollection",
        "totalFeatures": 2,
        "features": [
            {"type": "Feature", "id": n, "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}}
            for n in (1, 2)
        ],
    }
    sources.answer("trees.json", json.dumps(whole))
    pipeline = make_pipeline("wfs", {"url": sources.url("trees.json"), "type_name": "t"})
    assert runner.run(pipeline).status == RunStatus.SUCCEEDED
    sources.answer("trees.json", json.dumps(whole)[:150])

    run = runner.run(pipeline)

    assert run.status == RunStatus.FAILED and "not JSON" in run.error
    assert Feature.objects.filter(layer=pipeline.layer).count() == 2


def collection(count: int) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "id": n, "geometry": {"type": "Point", "coordinates": [13, 52]}}
                for n in range(count)
            ],
        }
    )


def test_a_run_that_keeps_less_than_min_share_fails_unless_allowed(sources, make_pipeline):
    sources.answer("stands.geojson", collection(10))
    pipeline = make_pipeline("geojson", {"url": sources.url("stands.geojson")})
    runner.run(pipeline)
    sources.answer("stands.geojson", collection(4))

    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert "yielded 4 features where this pipeline had 10, less than 50%" in run.error
    assert "allow_shrink" in run.error
    assert Feature.objects.count() == 10

    pipeline.options["min_share"] = 0.4
    pipeline.save()
    assert runner.run(pipeline).status == RunStatus.SUCCEEDED
    assert Feature.objects.count() == 4

    sources.answer("stands.geojson", collection(1))
    pipeline.options["allow_shrink"] = True
    pipeline.save()
    assert runner.run(pipeline).status == RunStatus.SUCCEEDED
    assert Feature.objects.count() == 1


def test_a_run_that_skips_every_record_fails_exits_non_zero_and_mails_at_once(
    world, sources, make_pipeline
):
    sources.answer("stands.csv", "id;name\n1;Rathaus\n2;Markt\n")  # no coordinates at all
    make_pipeline("csv", {"url": sources.url("stands.csv"), "mapping": {"id": "id"}}, key="stands")

    with pytest.raises(CommandError, match="all 2 records were skipped"):
        call_command("pipeline", "run", "stands", "--no-progress", stdout=StringIO())

    run = PipelineRun.objects.get()
    assert run.status == RunStatus.FAILED and run.skipped == 2
    assert "no coordinates" in run.error
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [world.alice.email]
    assert "none of its records could be used" in mail.outbox[0].subject

    with pytest.raises(CommandError):
        call_command("pipeline", "run", "stands", "--no-progress", stdout=StringIO())
    assert len(mail.outbox) == 1  # once per run of failures
