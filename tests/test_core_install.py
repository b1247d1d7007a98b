"""A core install (`pip install sensorgrid`, no extra) checks, serves, ingests and streams.

The geo extra (open-data pipelines) and the demo extra (the embedded MQTT broker) bring
libraries the core must not need. The processes here run with every library that only
those extras bring made unimportable, computed from pyproject.toml and the installed
packages' own requirements (so a library the core uses without declaring it, because an
extra happened to bring it, fails here too), and do what a production server does:
`sensorgrid check`, `sensorgrid serve --ingest` taking a reading over HTTP and one over
MQTT, a browser's WebSocket seeing both, and `sensorgrid worker` loading every app's
tasks. A feature of an extra says what to install.
"""

import asyncio
import json
import os
import sys
import time
import tomllib
import urllib.request
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import paho.mqtt.publish
import pytest
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.servers import Mosquitto, free_port, wait_for_port
from tests.support.commands import Sensorgrid, stop

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
PROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
    "project"
]
EXTRAS = ("geo", "demo", "outliers")

# Installed as sitecustomize: Python imports it at start-up, before anything of ours.
BLOCKER = """
import importlib.abc
import sys

BLOCKED = frozenset({blocked!r})


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""

SETUP_NODE = """
from datetime import timedelta
from django.utils import timezone
from sensorgrid.inventory.models import Installation, Node, Room, Site
from sensorgrid.tenancy.models import Organization
org = Organization.objects.create(name="Core", slug="core")
room = Room.objects.create(site=Site.objects.create(organization=org, name="School"), name="R1")
node = Node.objects.create(organization=org, device_id="core-1")
credential = node.issue_credential()
node.save(update_fields=["credential_digest"])
Installation.objects.create(
    node=node, room=room, start=timezone.now() - timedelta(hours=1), is_public=True
)
print(node.pk, credential)
"""


def closure(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` install, following installed packages' metadata."""
    names: set[str] = set()
    seen: set[tuple[str, str]] = set()
    todo = [(text, "") for text in requirements]
    while todo:
        text, extra = todo.pop()
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        names.add(name)
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue
            todo += [(each, wanted) for each in requires]
    return names


def only_in_extras() -> set[str]:
    """Top-level modules of the distributions that only the geo and demo extras bring."""
    core = closure(PROJECT["dependencies"])
    extras = closure([r for extra in EXTRAS for r in PROJECT["optional-dependencies"][extra]])
    missing = extras - core
    return {
        module
        for module, distributions in metadata.packages_distributions().items()
        if {canonicalize_name(d) for d in distributions} <= missing
    }


def test_the_geo_and_demo_libraries_are_extras_that_the_test_install_pulls():
    core = {canonicalize_name(Requirement(r).name) for r in PROJECT["dependencies"]}
    optional = PROJECT["optional-dependencies"]
    for name in ("shapely", "owslib", "icalendar", "croniter", "rich", "amqtt"):
        assert name not in core, f"{name} is required by every install"
    assert "amqtt" in {canonicalize_name(Requirement(r).name) for r in optional["demo"]}
    assert "shapely" in {canonicalize_name(Requirement(r).name) for r in optional["geo"]}
    pulled = [Requirement(r) for r in optional["test"] if Requirement(r).name == "sensorgrid"]
    assert [set(r.extras) for r in pulled] == [set(EXTRAS)]


@pytest.fixture
def core(tmp_path) -> Sensorgrid:
    blocked = only_in_extras()
    assert {"amqtt", "shapely", "croniter", "rich"} <= blocked
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=sorted(blocked)))
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "SENSORGRID_VAR_DIR": str(tmp_path),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_REDIS_URL": "",
    }
    return Sensorgrid(sys.executable, environment, tmp_path)


@pytest.mark.skipif(ON_POSTGRES, reason="packaging, not the database: tested in the SQLite pass")
def test_without_extras_their_libraries_cannot_be_imported(core):
    done = core.run("shell", "-c", "import amqtt", check=False)
    assert done.returncode != 0 and "No module named 'amqtt'" in done.stderr


@pytest.mark.skipif(ON_POSTGRES, reason="packaging, not the database: tested in the SQLite pass")
def test_the_embedded_broker_and_the_demo_name_the_extra_to_install(core):
    for command in (["broker"], ["demo", "--no-simulators"]):
        done = core.run(*command, check=False)
        assert done.returncode == 1, done.stderr[-3000:]
        assert "pip install 'sensorgrid[demo]'" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.skipif(ON_POSTGRES, reason="packaging, not the database: tested in the SQLite pass")
def test_the_pipeline_command_names_the_geo_extra(core):
    core.run("migrate", "--no-input")
    done = core.run("pipeline", "list", check=False)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "pip install 'sensorgrid[geo]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(ON_POSTGRES, reason="packaging, not the database: tested in the SQLite pass")
def test_a_core_install_checks_serves_and_ingests_over_http_and_mqtt(core, tmp_path):
    import websockets

    assert "System check identified no issues" in core.run("check").stdout
    core.run("migrate", "-v0")
    node_id, credential = core.run("shell", "-c", SETUP_NODE).stdout.split()[-2:]
    broker = Mosquitto(tmp_path / "mosquitto").start()
    port = free_port()
    server = core.start(
        "serve", "serve", "--ingest", "--port", str(port), SENSORGRID_MQTT_URL=broker.url
    )

    def post_http(co2: int) -> dict:
        body = [{"device": "core-1", "ts": datetime.now(UTC).isoformat(), "values": {"co2": co2}}]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/ingest/",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {credential}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def publish_mqtt(co2: int) -> None:
        body = {"ts": datetime.now(UTC).isoformat(), "values": {"co2": co2}}
        paho.mqtt.publish.single(
            "sensorgrid/core-1/up", json.dumps(body), qos=1, port=broker.port, hostname="127.0.0.1"
        )

    async def scenario() -> tuple[dict, list[float]]:
        url = f"ws://127.0.0.1:{port}/ws/live/"
        async with websockets.connect(url, origin=f"http://127.0.0.1:{port}") as ws:
            await ws.send(json.dumps({"subscribe": {"node": int(node_id)}}))
            assert json.loads(await ws.recv())["nodes"] == [int(node_id)]
            assert json.loads(await ws.recv())["type"] == "snapshot"

            async def next_co2(timeout: float) -> float:
                async with asyncio.timeout(timeout):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "delta":
                            return frame["values"]["co2"]

            answer = await asyncio.to_thread(post_http, 650)
            seen = [await next_co2(5)]
            # The ingester subscribes shortly after the server is up: until its session
            # exists the broker has nobody to queue for, so repeat until one arrives.
            deadline = time.monotonic() + 20
            while True:
                await asyncio.to_thread(publish_mqtt, 700)
                try:
                    seen.append(await next_co2(1))
                    return answer, seen
                except TimeoutError:
                    assert time.monotonic() < deadline, "no MQTT value within 20 s"

    try:
        wait_for_port(port, timeout=30)
        answer, seen = asyncio.run(scenario())
    finally:
        stop(server)
        broker.stop()
    assert answer == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert seen == [650.0, 700.0]
    assert "No module named" not in core.log("serve")


@pytest.mark.skipif(ON_POSTGRES, reason="packaging, not the database: tested in the SQLite pass")
def test_the_worker_starts_without_extras(core):
    """It loads every app's tasks, the open-data pipelines' scheduler among them."""
    core.run("migrate", "-v0")
    worker = core.start("worker", "worker", "--threads", "1")
    try:
        deadline = time.monotonic() + 30
        while worker.poll() is None and time.monotonic() < deadline:
            if "periodic on" in core.log("worker"):
                break
            time.sleep(0.2)
    finally:
        stop(worker)
    assert "periodic on" in core.log("worker"), core.log("worker")[-3000:]
