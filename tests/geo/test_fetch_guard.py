"""Issue 16, item 9: pipelines fetch only from public addresses (or allowed ones), every
redirect hop included, and a failed run says why without quoting the server."""

from http.server import BaseHTTPRequestHandler

import pytest
from django.core.exceptions import ValidationError

from sensorgrid.geo.models import Feature, RunStatus
from sensorgrid.geo.pipelines import http, runner
from sensorgrid.geo.pipelines.items import PipelineError
from sensorgrid.geo.pipelines.registry import Request
from sensorgrid.outbound.addresses import REFUSED
from tests.servers import http_server


def test_a_pipeline_cannot_read_a_loopback_service(sources, make_pipeline, settings):
    pipeline = make_pipeline("geojson", {"url": sources.url("stands.geojson")})
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    run = runner.run(pipeline)
    assert run.status == RunStatus.FAILED and "SENSORGRID_OUTBOUND_ALLOW" in run.error
    assert sources.requests == [] and not Feature.objects.exists()


def test_the_fetch_checks_the_address_a_name_resolves_to(sources, settings):
    # "localhost" as a DNS name: the authoritative check is at connect time, on the
    # resolved address, whatever was checked when the pipeline was saved.
    settings.SENSORGRID_OUTBOUND_ALLOW = [f"127.0.0.1:{sources.port + 1}"]
    for host in ("localhost", "127.0.0.1"):
        with pytest.raises(PipelineError) as caught:
            http.download(Request(url=f"http://{host}:{sources.port}/stands.geojson"))
        assert str(caught.value).endswith(REFUSED)
    assert sources.requests == []


@pytest.fixture
def internal():
    """An internal service the pipeline must not reach; records what reaches it."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"type": "FeatureCollection", "features": []}')

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        yield port, hits


def redirecting(target: str):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def test_a_redirect_from_an_allowed_host_to_an_internal_one_is_refused(
    make_pipeline, settings, internal
):
    internal_port, hits = internal
    for target in (
        f"http://127.0.0.1:{internal_port}/latest/meta-data/",  # another port
        f"http://127.0.0.2:{internal_port}/",  # another loopback address
        f"http://localhost:{internal_port}/",
    ):
        with http_server(redirecting(target)) as port:
            # The allowance stands in for a public host: exactly this address and port.
            settings.SENSORGRID_OUTBOUND_ALLOW = [f"127.0.0.1:{port}"]
            pipeline = make_pipeline("geojson", {"url": f"http://127.0.0.1:{port}/x.geojson"})
            run = runner.run(pipeline)
            pipeline.delete()
        assert run.status == RunStatus.FAILED and REFUSED in run.error, target
    assert hits == []


def test_a_failed_fetch_does_not_quote_the_server(sources, make_pipeline):
    sources.answer("x.geojson", "internal stack trace: password=hunter2", status=500)
    pipeline = make_pipeline("geojson", {"url": sources.url("x.geojson")})
    run = runner.run(pipeline)
    assert run.error == (
        f"fetch: cannot fetch {sources.url('x.geojson')}: the remote service answered HTTP 500"
    )
    assert "hunter2" not in run.error + run.log


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:9200/_search",
        "http://[::1]/",
        "http://10.0.0.8/wfs",
    ],
)
def test_saving_a_pipeline_with_an_internal_url_names_the_problem(make_pipeline, settings, url):
    settings.SENSORGRID_OUTBOUND_ALLOW = []
    pipeline = make_pipeline("wfs", {"url": url, "type_name": "x"})
    with pytest.raises(ValidationError) as caught:
        pipeline.full_clean()
    (message,) = caught.value.message_dict["options"]
    assert message.startswith("url: ") and "SENSORGRID_OUTBOUND_ALLOW" in message
    for source, options in [
        ("overpass", {"url": url, "query": "[out:json];node(1);out;"}),
        ("wikipedia", {"url": url, "lat": 1, "lon": 2}),
    ]:
        pipeline.source, pipeline.options = source, options
        with pytest.raises(ValidationError):
            pipeline.full_clean()
