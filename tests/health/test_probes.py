import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def test_healthz_answers_without_touching_the_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_reports_the_database_with_its_latency(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    database = response.json()["checks"]["database"]
    assert database["status"] == "ok" and database["latency_ms"] >= 0


def test_probes_refuse_writes_with_405(client):
    assert client.post("/readyz").status_code == 405


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def serve(tmp_path):
    """Start `sensorgrid serve` in its own process with the given environment."""
    processes = []

    def start(**environment) -> str:
        port = free_port()
        env = {**os.environ, "SENSORGRID_VAR_DIR": str(tmp_path), **environment}
        process = subprocess.Popen(
            [sys.executable, "-m", "sensorgrid", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    return base
            except OSError:
                time.sleep(0.2)
        raise AssertionError("sensorgrid serve did not start")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_readyz_is_503_and_names_the_database_when_it_is_unreachable(serve):
    # Nothing listens on this port: the database is "down" for this server only.
    base = serve(SENSORGRID_DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/none")
    status, body = get(f"{base}/readyz")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"]
    assert get(f"{base}/healthz")[0] == 200  # alive, just not ready
