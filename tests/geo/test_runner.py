"""The runner's last line of defence: a bug in a source is a failed run, not a crash."""

import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sensorgrid.geo.models import Feature, PipelineRun, RunStatus
from sensorgrid.geo.pipelines import runner
from sensorgrid.geo.pipelines.registry import SOURCES, Source


class Exploding(Source):
    """A source whose parser has a bug that leaks what the server said."""

    key = "exploding-test"

    def parse(self, payload, options):
        raise RuntimeError(f"bug near {payload[:20]!r}")
        yield  # a generator, as every parser


@pytest.fixture(autouse=True, scope="module")
def _forget_the_test_source():
    yield
    SOURCES.remove(Exploding.key)  # other test modules list the real sources only


def test_an_unexpected_exception_fails_the_run_with_a_message_and_exits_non_zero(
    sources, make_pipeline
):
    sources.answer("secret.csv", "internal: s3cr3t-token\n")
    pipeline = make_pipeline("exploding-test", {"url": sources.url("secret.csv")}, key="boom")
    Feature.objects.create(
        layer=pipeline.layer,
        pipeline=pipeline,
        external_id="kept",
        geometry={"type": "Point", "coordinates": [13, 52]},
        min_x=13,
        min_y=52,
        max_x=13,
        max_y=52,
    )

    with pytest.raises(CommandError, match="parse: unexpected RuntimeError"):
        call_command("pipeline", "run", "boom", "--no-progress", stdout=StringIO())

    run = PipelineRun.objects.get(pipeline=pipeline)
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    assert run.error == "parse: unexpected RuntimeError (details in the worker's log)"
    assert "s3cr3t" not in run.error + run.log  # what the server sent stays in the log file
    assert "FAILED parse" in run.log
    assert runner.run(pipeline).status == RunStatus.FAILED  # and again, no crash
    assert list(Feature.objects.values_list("external_id", flat=True)) == ["kept"]


def test_a_missing_geo_library_fails_the_run_naming_the_extra(sources, make_pipeline, monkeypatch):
    # As on a core install: shapely cannot be imported (None in sys.modules stops it).
    monkeypatch.setitem(sys.modules, "shapely", None)
    sources.answer("stands.csv", "id,lon,lat\n1,13.4,52.5\n")
    pipeline = make_pipeline("csv", {"url": sources.url("stands.csv"), "mapping": {"id": "id"}})

    run = runner.run(pipeline)

    assert run.status == RunStatus.FAILED
    assert "needs shapely" in run.error and "pip install 'sensorgrid[geo]'" in run.error
