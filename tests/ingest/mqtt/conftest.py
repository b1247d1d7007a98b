import json
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from django.db import OperationalError

from sensorgrid.ingest.mqtt import config
from sensorgrid.ingest.mqtt.service import Ingester
from sensorgrid.mqtt import parse
from tests.servers import Mosquitto
from tests.support.publisher import publish


@pytest.fixture
def mosquitto(tmp_path):
    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


def eventually(condition, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OperationalError:  # SQLite's shared in-memory test database locks tables
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s")


@contextmanager
def running(url: str, client_id: str | None = None, **overrides):
    """An Ingester in a thread of this process, subscribed before the block starts."""
    options = config.options(
        url=url, client_id=client_id or f"test-{uuid.uuid4().hex[:8]}", **overrides
    )
    ingester = Ingester(options, config.route_table())
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        assert ingester.connection.subscribed.wait(10), "the ingester did not subscribe"
        yield ingester
    finally:
        ingester.stop()
        thread.join(15)
        assert not thread.is_alive(), "the ingester did not stop"


def send(url: str, messages) -> int:
    """Publish (topic, dict-or-bytes) pairs with QoS 1; return the acknowledged count."""
    return publish(
        parse(url),
        (
            (topic, body if isinstance(body, bytes) else json.dumps(body))
            for topic, body in messages
        ),
    )
