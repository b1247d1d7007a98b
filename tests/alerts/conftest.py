import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from sensorgrid.alerts import scope
from sensorgrid.alerts.channels.webhook import verify
from sensorgrid.alerts.models import AlertRule, Channel
from sensorgrid.inventory.models import Quantity
from tests.servers import http_server

LOOPBACK = ["127.0.0.0/8", "::1"]


@pytest.fixture(autouse=True)
def quiet_outbox(settings):
    # Tests send deliveries themselves (deliveries.send_due with a controlled clock);
    # nothing goes to the worker's real queue file.
    settings.SENSORGRID_ALERTS_SEND_AT_ONCE = False
    settings.SENSORGRID_ALERTS_HTTP_TIMEOUT = 1
    # Receivers and brokers of these tests listen on loopback, which the outbound guard
    # refuses unless allowed (tests/alerts/test_outbound_guard.py tests it without).
    settings.SENSORGRID_OUTBOUND_ALLOW = LOOPBACK
    scope.index.clear()
    yield
    scope.index.clear()


@dataclass
class Request:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on a free port. ``script`` says how to answer each request:
    an HTTP status, or "timeout" (answer later than the sender waits); when it runs
    out, 200. ``processed`` counts the idempotency keys it accepted (duplicates dropped)."""

    secret: str = ""
    script: list = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    processed: Counter = field(default_factory=Counter)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def valid(self, request: Request) -> bool:
        key = request.headers["Idempotency-Key"]
        return verify(self.secret, key, request.body, request.headers["X-SensorGrid-Signature"])

    def bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests]


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = Request(self.headers, body)  # case-insensitive
            with lock:
                state.requests.append(request)
                answer = state.script.pop(0) if state.script else 200
            if answer == "timeout":
                time.sleep(1.5)
                answer = 200  # too late: the sender gave up
            if answer == 200:
                with lock:
                    key = request.headers["Idempotency-Key"]
                    if state.valid(request) and key not in state.processed:
                        state.processed[key] += 1
            self.send_response(answer)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        state.port = port
        yield state


@pytest.fixture
def co2(db):
    return Quantity.objects.get(key="co2")


def webhook(organization, receiver, **kwargs) -> Channel:
    channel = Channel.objects.create(
        organization=organization,
        name="hook",
        kind="webhook",
        config={"url": receiver.url},
        **kwargs,
    )
    receiver.secret = channel.secret
    return channel


def rule(organization, kind, params, quantity=None, channels=(), **kwargs) -> AlertRule:
    created = AlertRule.objects.create(
        organization=organization,
        name=kwargs.pop("name", f"{kind} rule"),
        kind=kind,
        params=params,
        quantity=quantity,
        **kwargs,
    )
    created.channels.set(channels)
    return created
