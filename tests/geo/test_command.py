"""sensorgrid pipeline list | run | history | load."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import sensorgrid.geo
from sensorgrid.geo import demo as geo_demo
from sensorgrid.geo.models import Feature, Layer, Pipeline, PipelineRun

EXAMPLES = sorted((Path(sensorgrid.geo.__file__).parent / "examples").glob("*.yaml"))


def call(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("pipeline", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_example_loads_and_loads_again(world, example):
    first = call("load", str(example), "--organization", world.org_a.slug)
    assert "pipeline" in first and "created" in first
    again = call("load", str(example), "--organization", world.org_a.slug)
    assert "created" not in again and "updated" in again
    for pipeline in Pipeline.objects.all():
        # Every example has a schedule but the demo's, which `sensorgrid demo` runs at start.
        assert (pipeline.next_run_at is not None) == (pipeline.key != geo_demo.PIPELINE)
        assert pipeline.layer.organization == world.org_a


def test_load_refuses_a_bad_file_and_writes_nothing(world, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "layers:\n  - {key: ok-layer, name: OK}\n"
        "pipelines:\n  - {key: p, layer: ok-layer, source: overpass, schedule: 'daily',"
        " options: {query: 'node;out;'}}\n"
    )
    with pytest.raises(CommandError) as caught:
        call("load", str(bad), "--organization", world.org_a.slug)
    message = str(caught.value)
    assert "pipelines[1] (p)" in message and "schedule" in message and "[out:json]" in message
    assert not Layer.objects.exists()

    with pytest.raises(CommandError, match="no organization"):
        call("load", str(EXAMPLES[0]), "--organization", "nope")
    with pytest.raises(CommandError, match="cannot read"):
        call("load", str(tmp_path / "missing.yaml"), "--organization", world.org_a.slug)


def test_load_does_not_take_over_another_organizations_layer(world, tmp_path):
    Layer.objects.create(organization=world.org_b, key="berlin-bicycle-parking", name="B's")
    with pytest.raises(CommandError, match="another organization"):
        call("load", str(EXAMPLES[0]), "--organization", world.org_a.slug)


def test_run_list_and_history(world, sources, make_pipeline):
    make_pipeline(
        "csv", {"url": sources.url("bike-stands.csv"), "mapping": {"id": "id"}}, key="stands"
    )

    output = call("run", "stands")
    assert "succeeded: 5 created" in output
    assert "skipped line 8: 3 fields where the header has 6" in output
    assert "fetch" in output and "load" in output  # the progress bar's steps
    assert Feature.objects.count() == 5

    listing = call("list")
    assert "stands" in listing and "succeeded" in listing and "on demand" in listing

    history = call("history", "stands", "--log")
    assert "succeeded" in history and "manual" in history
    assert "load: 5 created" in history


def test_a_failed_run_exits_with_the_error(world, sources, make_pipeline):
    sources.answer("gone.csv", "nope", status=404)
    make_pipeline("csv", {"url": sources.url("gone.csv")}, key="gone")
    with pytest.raises(CommandError, match="HTTP 404"):
        call("run", "gone", "--no-progress")
    assert PipelineRun.objects.get().status == "failed"


def test_unknown_pipelines_are_named(world):
    with pytest.raises(CommandError, match="No pipeline 'nope'"):
        call("run", "nope")
    with pytest.raises(CommandError, match="No pipeline 'nope'"):
        call("history", "nope")


def test_load_refuses_unknown_names_with_what_was_meant(world, tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text(
        "layers:\n  - {key: trees, name: Trees, colour: green}\n"
        "pipelines:\n  - key: trees-wfs\n    layer: trees\n    source: wfs\n"
        "    options: {url: 'https://example.org/wfs', type_name: t, srs_name: 'EPSG:25832'}\n"
    )
    with pytest.raises(CommandError) as caught:
        call("load", str(bad), "--organization", world.org_a.slug)
    assert "layers[1] (trees): unknown field 'colour'" in str(caught.value)

    bad.write_text(bad.read_text().replace(", colour: green", ""))
    with pytest.raises(CommandError) as caught:
        call("load", str(bad), "--organization", world.org_a.slug)
    message = str(caught.value)
    assert "pipelines[1] (trees-wfs): options:" in message
    assert "unknown option 'srs_name' (did you mean 'srs'?)" in message
    assert not Layer.objects.exists()


def test_progress_of_a_step_with_nothing_to_do_reads_0_of_0(world, sources, make_pipeline):
    make_pipeline(
        "csv", {"url": sources.url("bike-stands.csv"), "mapping": {"id": "id"}}, key="stands"
    )
    call("run", "stands")
    again = call("run", "stands")  # every feature unchanged: load has nothing to write
    load = next(line for line in again.splitlines() if line.strip().startswith("load"))
    assert " 0/0 " in load and "1/0" not in again
    assert "succeeded: 0 created, 0 updated, 5 unchanged" in again
