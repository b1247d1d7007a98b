import time

import pytest

from tests.servers import Mosquitto


@pytest.fixture
def mosquitto(tmp_path):
    server = Mosquitto(tmp_path / "mosquitto").start()
    yield server
    server.stop()


def eventually(condition, timeout: float = 10, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout}s")
