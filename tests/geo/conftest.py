"""A local HTTP server that plays the open-data sources from recorded files."""

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from sensorgrid.geo.models import Layer, Pipeline
from tests.servers import http_server

DATA = Path(__file__).parent / "data"

TYPES = {
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".gml": "text/xml; subtype=gml/3.2",
    ".xml": "application/xml",
    ".ics": "text/calendar; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}


@dataclass
class Recorded:
    method: str
    path: str
    body: bytes


@dataclass
class SourceServer:
    """Serves tests/geo/data/<name> at /<name>; ``answer`` overrides a path."""

    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    overrides: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    #: name -> handler(query with lower-case keys) -> (status, content type, body)
    services: dict[str, Callable[[dict[str, str]], tuple[int, str, bytes]]] = field(
        default_factory=dict
    )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def answer(self, name: str, body: bytes | str, status: int = 200, content_type="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.overrides[name] = (status, content_type, data)

    def serve(self, name: str, service) -> None:
        """Answer /<name> with ``service(query)`` (a WFS that pages, for instance)."""
        self.services[name] = service

    def reset(self, name: str) -> None:
        self.overrides.pop(name, None)


def _handler(server: SourceServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._serve(b"")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self._serve(self.rfile.read(length))

        def _serve(self, body: bytes):
            server.requests.append(Recorded(self.command, self.path, body))
            name = self.path.split("?", 1)[0].lstrip("/")
            query = urllib.parse.parse_qs(self.path.partition("?")[2])
            if name in server.services:
                lowered = {k.lower(): v[0] for k, v in query.items()}
                status, content_type, data = server.services[name](lowered)
            elif name in server.overrides:
                status, content_type, data = server.overrides[name]
            elif (DATA / name).is_file() and "/" not in name:
                status, content_type = 200, TYPES.get((DATA / name).suffix, "text/plain")
                data = (DATA / name).read_bytes()
            else:
                status, content_type, data = 404, "text/plain", b"no such recording"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture(autouse=True)
def loopback_sources(settings):
    # The recorded sources are served on loopback, which the outbound guard refuses
    # unless allowed (tests/geo/test_fetch_guard.py tests it without).
    settings.SENSORGRID_OUTBOUND_ALLOW = ["127.0.0.0/8", "::1"]


@pytest.fixture(scope="session")
def _http_server():
    server = SourceServer()
    with http_server(_handler(server)) as port:
        server.port = port
        yield server


@pytest.fixture
def sources(_http_server) -> SourceServer:
    _http_server.requests.clear()
    _http_server.overrides.clear()
    _http_server.services.clear()
    yield _http_server
    _http_server.overrides.clear()
    _http_server.services.clear()


@pytest.fixture
def make_pipeline(world):
    """A layer of org A (private unless said) and a pipeline feeding it."""

    def make(source: str, options: dict, key: str = "test", **layer_fields) -> Pipeline:
        layer_fields.setdefault("organization", world.org_a)
        layer_fields.setdefault("name", f"Layer {key}")
        layer, _ = Layer.objects.get_or_create(key=f"{key}-layer", defaults=layer_fields)
        return Pipeline.objects.create(key=key, layer=layer, source=source, options=options)

    return make
