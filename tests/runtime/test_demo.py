"""`sensorgrid demo`, the README's first command, as a user runs it: one process that
brings up the embedded broker, ingest, the web server and simulated devices of every
profile on SQLite; within 60 s each profile's data is readable through the API; Ctrl-C
stops it all cleanly."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest
from django.conf import settings

from sensorgrid.inventory import device_ids
from sensorgrid.simulator import profiles
from tests.servers import Redis, free_port

PROFILES = {  # profile → the demo user who sees its devices
    "room": "alice",
    "outdoor": "alice",
    "lorawan": "alice",
    "kpi": "charlie",
    "vehicle": "charlie",
}

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = pytest.mark.slow


def call(base: str, path: str, token: str = "", body: dict | None = None):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Token {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def latest_values(base: str, token: str, device_id: str) -> list:
    nodes = call(base, f"/api/v1/nodes/?search={device_id}", token)["results"]
    node = next((n for n in nodes if n["device_id"] == device_id), None)
    return call(base, f"/api/v1/nodes/{node['id']}/latest/", token) if node else []


@pytest.mark.skipif(ON_POSTGRES, reason="the demo's embedded defaults: tested in the SQLite pass")
def test_the_demo_shows_every_profiles_devices_within_a_minute_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "SENSORGRID_VAR_DIR": str(tmp_path), "SENSORGRID_DATABASE_URL": ""}
    log = (tmp_path / "demo.log").open("w")
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "sensorgrid", "demo", "--port", str(port), "--rate", "1"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # As stored: a DevEUI in lower case (sensorgrid.inventory.device_ids).
        devices = {
            p: device_ids.canonical(profiles.get(p).device(1, 1).device_id) for p in PROFILES
        }
        seen: dict[str, float] = {}
        tokens: dict[str, str] = {}
        while time.monotonic() - started < 60 and len(seen) < len(PROFILES):
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                for user in set(PROFILES.values()) - set(tokens):
                    credentials = {"username": user, "password": "demo-password"}
                    tokens[user] = call(base, "/api/v1/auth/token/", body=credentials)["token"]
                for profile, user in PROFILES.items():
                    if profile not in seen and latest_values(base, tokens[user], devices[profile]):
                        seen[profile] = time.monotonic() - started
            except (urllib.error.URLError, ConnectionError):
                pass  # not serving yet
            time.sleep(0.5)
        assert set(seen) == set(PROFILES), (
            f"no data after 60 s from {sorted(set(PROFILES) - set(seen))}; "
            + (tmp_path / "demo.log").read_text()[-3000:]
        )
        print(f"time to first sample per profile (s): {seen}")
        # The devices that sent are ALIVE (the ingest hook after the commit that made
        # their values readable), and the worker reports to /readyz.
        statuses: dict[str, str] = {}
        while time.monotonic() - started < 90 and set(statuses.values()) != {"ALIVE"}:
            for profile, user in PROFILES.items():
                path = f"/api/v1/nodes/?device_id={devices[profile]}"
                statuses[profile] = call(base, path, tokens[user])["results"][0]["status"]
            time.sleep(0.3)
        assert set(statuses.values()) == {"ALIVE"}, statuses
        worker = {}
        while time.monotonic() - started < 90 and worker.get("status") != "ok":
            worker = call(base, "/readyz")["checks"]["worker"]
            time.sleep(0.5)
        assert worker["status"] == "ok", worker
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "demo.log").read_text()[-3000:]
    text = (tmp_path / "demo.log").read_text()
    assert "stopped after storing" in text  # ingest finished its last batch
    assert "simulated:" in text  # the simulators kept their queues


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL server of the PostgreSQL pass")
def test_demo_postgres_and_redis_put_everything_there(tmp_path):
    default = settings.DATABASES["default"]
    server = f"postgres://{default['USER']}@{default['HOST']}:{default['PORT'] or 5432}"
    name = f"sg_demo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    environment = {**os.environ, "SENSORGRID_VAR_DIR": str(tmp_path), "SENSORGRID_DATABASE_URL": ""}
    redis = Redis().start()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sensorgrid",
            "demo",
            "--port",
            str(port),
            "--no-simulators",
            "--postgres",
            f"{server}/{name}",
            "--redis",
            redis.url,
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        ready: dict = {}
        while time.monotonic() < deadline and ready.get("worker", {}).get("status") != "ok":
            with contextlib.suppress(urllib.error.URLError, ConnectionError):
                ready = call(f"http://127.0.0.1:{port}", "/readyz")["checks"]
            time.sleep(0.5)
        assert ready["database"]["status"] == "ok"
        assert (ready["cache"]["status"], ready["cache"]["backend"]) == ("ok", "redis")
        assert ready["worker"]["status"] == "ok", ready  # its queue is the Redis above
        with psycopg.connect(f"{server}/{name}") as connection:
            slugs = connection.execute("SELECT slug FROM tenancy_organization").fetchall()
        assert sorted(slug for (slug,) in slugs) == ["harbour-offices", "riverside-school"]
        assert not (tmp_path / "sensorgrid.sqlite3").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=60)
        redis.stop()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert code == 0
    assert not (tmp_path / "worker-queue.sqlite3").exists()
