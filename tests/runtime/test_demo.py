"""`sensorgrid demo`, the README's first command, as a user runs it: one process that
brings up the embedded broker, ingest, the web server, the worker and the demo's
simulated devices on SQLite. Within a minute every room tile of alice shows a live
value, the public page shows data, the map's sites have coordinates and its open-data
layer (street trees, from a file shipped with the package) has its features; the roof
camera gets a model trained on normal pictures by the worker and its pictures are
scored (issue 23: its outliers then show live on /outliers/); the terminal
stays quiet (no blank lines, no line per request or task), the banner comes after
start-up, and Ctrl-C stops everything with one calm line per process (issue 19)."""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import psycopg
import pytest
from django.conf import settings

from sensorgrid.inventory import demo as demo_data
from tests.servers import Redis, free_port

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = pytest.mark.slow
#: alice's rooms: every one has a node the demo simulates
ALICE_ROOMS = {room for _, slug, _, _, room, _ in demo_data.NODES if slug == "riverside-school"}
CHILDREN = ["broker", "web", "worker", "classrooms", "hall", "outdoor", "offices", "kpi", "buses"]
CHILDREN.append("cameras")
#: the camera's first model is trained beside sending (simulate --outlier-model): about
#: 10 s on an idle machine, past a minute on a busy one
CAMERA_SECONDS = 150


def call(base: str, path: str, token: str = "", body: dict | None = None):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Token {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def signed_in(base: str, username: str) -> urllib.request.OpenerDirector:
    """A browser-like client signed in through the login form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/login/", timeout=5).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    form = {"username": username, "password": "demo-password", "csrfmiddlewaretoken": token}
    request = urllib.request.Request(
        base + "/login/", urllib.parse.urlencode(form).encode(), headers={"Referer": base}
    )
    opener.open(request, timeout=5).read()
    return opener


def tiles(html: str) -> list[str]:
    """The tiles of a page (each from its article to the next one)."""
    return re.split(r'<article class="tile', html)[1:]


def test_the_demo_is_live_within_a_minute_quiet_and_stops_calmly_on_ctrl_c(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(tmp_path),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_LOG_FORMAT": "text",  # as in a terminal
    }
    output = tmp_path / "demo.log"
    log = output.open("w")
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "sensorgrid", "demo", "--port", str(port), "--rate", "1"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    seen: dict[str, float] = {}
    try:
        alice = None
        while time.monotonic() - started < CAMERA_SECONDS and len(seen) < 5:
            assert demo.poll() is None, output.read_text()[-3000:]
            try:
                alice = alice or signed_in(base, "alice")
                page = alice.open(base + "/", timeout=5).read().decode()
                rooms = [t for t in tiles(page) if "data-updated" in t]
                live = [t for t in rooms if "No values yet" not in t]
                if "rooms" not in seen and rooms and len(live) == len(rooms) >= len(ALICE_ROOMS):
                    assert "Nodes not installed anywhere" not in page
                    assert all(room in page for room in ALICE_ROOMS)
                    seen["rooms"] = time.monotonic() - started
                public = urllib.request.urlopen(base + "/public/", timeout=5).read().decode()
                if "public" not in seen and tiles(public) and "No values yet" not in public:
                    seen["public"] = time.monotonic() - started
                if "map" not in seen:
                    token = call(
                        base,
                        "/api/v1/auth/token/",
                        body={"username": "alice", "password": "demo-password"},
                    )["token"]
                    sites = call(base, "/api/v1/sites/", token)["results"]
                    markers = call(base, "/api/geo/nodes/", token)["features"]
                    if len(markers) == len(ALICE_ROOMS) and all(
                        m["properties"]["latest"] for m in markers
                    ):
                        assert all(m["geometry"]["coordinates"] for m in markers), markers
                        assert len(sites) == 2, sites
                        assert all(s["latitude"] and s["longitude"] for s in sites), sites
                        seen["map"] = time.monotonic() - started
                if "layer" not in seen:
                    # The map's layer switcher reads /api/geo/: the sample layer, public.
                    layers = call(base, "/api/geo/")["layers"]
                    trees = [layer for layer in layers if layer["key"] == "demo-street-trees"]
                    if trees:
                        features = call(base, "/api/geo/demo-street-trees/")["features"]
                        assert len(features) == 36, features
                        seen["layer"] = time.monotonic() - started
                if "camera" not in seen:
                    # charlie's roof camera: a trained model, and its pictures scored.
                    token = call(
                        base,
                        "/api/v1/auth/token/",
                        body={"username": "charlie", "password": "demo-password"},
                    )["token"]
                    camera = call(base, "/api/v1/nodes/?device_id=demo-cam-101", token)
                    node = camera["results"][0]["id"]
                    models = call(base, f"/api/v1/nodes/{node}/outlier-models/", token)
                    scores = call(base, f"/api/v1/nodes/{node}/outlier-scores/", token)
                    if models and scores["results"]:
                        assert [(m["version"], m["pictures"]) for m in models] == [(1, 72)]
                        trained = (models[0]["first_ts"], models[0]["last_ts"])
                        assert trained == ("2025-12-31T00:00:00Z", "2025-12-31T23:40:00Z")
                        seen["camera"] = time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError, StopIteration):
                pass  # not serving yet (or too busy to answer within 5 s)
            time.sleep(0.5)
        assert set(seen) == {"rooms", "public", "map", "layer", "camera"}, (
            f"only {seen} after {CAMERA_SECONDS} s; " + output.read_text()[-3000:]
        )
        live = {key: at for key, at in seen.items() if key != "camera"}
        assert max(live.values()) < 60, f"not live within a minute: {seen}"
        print(f"seconds from start to live rooms, public page, map, layer, camera: {seen}")
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        code = demo.wait(timeout=60)
        log.close()
    text = output.read_text()
    assert code == 0, text[-3000:]
    lines = text.splitlines()
    assert all(line.strip() for line in lines), "a blank line"
    # Quiet: SensorGrid's own lines, none per request or per task, no framework INFO.
    for noisy in ("sensorgrid.http", "uvicorn", "huey", "GET /", "Executing", "Traceback"):
        assert noisy not in text, noisy
    assert "WARNING" not in text and "ERROR" not in text, text[-3000:]
    assert "map layer  36 street trees" in text  # the banner says the layer is there
    # The banner after start-up: every simulator said it is connected before it.
    banner = next(i for i, line in enumerate(lines) if "SensorGrid demo on" in line)
    for name in CHILDREN[3:]:
        assert any(f"{name:>10} | " in line and "connected to" in line for line in lines[:banner])
    # Ctrl-C: one line saying so, then one calm line per process.
    stopping = lines.index("stopping, last started first")
    after = lines[stopping + 1 :]
    assert sorted(line.split("|")[0].strip() for line in after) == sorted(CHILDREN), after
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
            trees = connection.execute(
                "SELECT count(*) FROM geo_feature f JOIN geo_layer l ON l.id = f.layer_id"
                " WHERE l.key = 'demo-street-trees'"
            ).fetchone()
        assert sorted(slug for (slug,) in slugs) == ["harbour-offices", "riverside-school"]
        assert trees == (36,)  # the sample layer, from the bundled file
        assert not (tmp_path / "sensorgrid.sqlite3").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=60)
        redis.stop()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert code == 0
    assert not (tmp_path / "worker-queue.sqlite3").exists()
