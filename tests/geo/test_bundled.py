"""``bundled:<path>``: a pipeline reads a data file shipped in the package (the demo's
sample layer, no internet), and nothing but such a file: no path out of
sensorgrid/geo/bundled/, no absolute path, no ``file:`` (issue 19)."""

import json

import pytest
from django.core.exceptions import ValidationError

from sensorgrid.geo import demo as geo_demo
from sensorgrid.geo.models import Feature, Layer, Pipeline, RunStatus
from sensorgrid.geo.pipelines import bundled, http, runner
from sensorgrid.inventory import demo

pytestmark = pytest.mark.django_db

TREES = "bundled:demo/street-trees.geojson"


@pytest.fixture
def offline(monkeypatch):
    """Any download fails the test: bundled files need no network."""

    def no_network(*args, **kwargs):
        raise AssertionError("a bundled file was fetched over the network")

    monkeypatch.setattr(http, "download", no_network)


def test_a_pipeline_loads_a_bundled_geojson_file_without_network(make_pipeline, offline):
    pipeline = make_pipeline("geojson", {"url": TREES})
    run = runner.run(pipeline)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.created == 36
    assert f"fetch: GET {TREES}" in run.log
    tree = Feature.objects.get(external_id="demo-tree-001")
    assert tree.properties["street"] == "Frauenstraße"
    assert tree.geometry["type"] == "Point"
    again = runner.run(pipeline)
    assert (again.status, again.unchanged, again.created) == (RunStatus.SUCCEEDED, 36, 0)


@pytest.mark.parametrize(
    "url",
    [
        "bundled:../../settings.py",
        "bundled:demo/../../../settings.py",
        "bundled:/etc/passwd",
        "bundled://etc/passwd",
        "bundled:..\\..\\settings.py",
        "bundled:.hidden",
        "bundled:",
    ],
)
def test_a_path_out_of_the_bundled_directory_is_refused_with_the_reason(make_pipeline, url):
    pipeline = Pipeline(key="p", layer=make_pipeline("geojson", {"url": TREES}).layer)
    pipeline.source, pipeline.options = "geojson", {"url": url}
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    message = " ".join(caught.value.message_dict["options"])
    assert "does not name a bundled file" in message and "no '..', no absolute path" in message


def test_a_bundled_file_that_does_not_exist_names_the_ones_that_do(make_pipeline):
    pipeline = make_pipeline("geojson", {"url": TREES})
    pipeline.options = {"url": "bundled:demo/street-tres.geojson"}
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    message = " ".join(caught.value.message_dict["options"])
    assert "there is no bundled file 'demo/street-tres.geojson'" in message
    assert "demo/street-trees.geojson" in message


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "file:settings.py", "/etc/passwd", "../../settings.py"]
)
def test_file_urls_and_paths_stay_refused(make_pipeline, url):
    pipeline = make_pipeline("geojson", {"url": TREES})
    pipeline.options = {"url": url}
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    assert "url must start with http:// or https://" in str(caught.value)


def test_a_run_of_options_saved_around_the_check_fails_without_reading(make_pipeline, offline):
    # Options written straight to the database are checked again when the run starts.
    pipeline = make_pipeline("geojson", {"url": TREES})
    Pipeline.objects.filter(pk=pipeline.pk).update(options={"url": "bundled:../../settings.py"})
    pipeline.refresh_from_db()
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("configuration: url: 'bundled:../../settings.py' does not name")
    assert not Feature.objects.exists()


def test_a_symbolic_link_out_of_the_directory_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "bundled"
    root.mkdir()
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "x"}')
    (root / "inside.json").symlink_to(secret)
    (root / "fine.json").write_text("[]")
    monkeypatch.setattr(bundled, "ROOT", root.resolve())
    assert bundled.read("bundled:fine.json", 1000) == (b"[]", "application/json")
    with pytest.raises(ValueError, match=r"there is no bundled file 'inside\.json'"):
        bundled.read("bundled:inside.json", 1000)
    assert bundled.available() == ["fine.json", "inside.json"]  # listed, never read


def test_a_bundled_file_over_the_size_limit_fails_the_run(make_pipeline, settings, offline):
    settings.SENSORGRID_GEO_FETCH_MAX_BYTES = 1000
    run = runner.run(make_pipeline("geojson", {"url": TREES}))
    assert run.status == RunStatus.FAILED
    assert "larger than 1000 bytes (SENSORGRID_GEO_FETCH_MAX_BYTES)" in run.error


def test_the_demo_layer_lies_near_the_demo_sites_and_everybody_sees_it(client, offline):
    demo.load("pw")
    first = geo_demo.sample_layer()
    assert first.status == RunStatus.SUCCEEDED, first.error
    second = geo_demo.sample_layer()  # every demo start runs it: nothing changes
    assert (second.status, second.unchanged) == (RunStatus.SUCCEEDED, 36)
    assert Layer.objects.filter(key=geo_demo.LAYER).count() == 1
    layers = {layer["key"]: layer for layer in client.get("/api/geo/").json()["layers"]}
    assert layers[geo_demo.LAYER]["style"]["shown"] is True  # on when the map opens
    # Anonymous, within the demo's part of Munich (its sites' bounding box, widened).
    answer = client.get(f"/api/geo/{geo_demo.LAYER}/?bbox=11.545,48.125,11.585,48.155")
    assert answer.status_code == 200
    collection = json.loads(answer.content)
    assert collection["numberMatched"] == 36
    streets = {f["properties"]["street"] for f in collection["features"]}
    assert streets == {"Frauenstraße", "Reichenbachstraße", "Arnulfstraße", "Dachauer Straße"}


def test_the_file_is_package_data_of_the_wheel():
    # pyproject's package-data ships sensorgrid/geo/bundled/**/* with the package.
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert "bundled/**/*" in patterns
    assert "demo/street-trees.geojson" in bundled.available()
