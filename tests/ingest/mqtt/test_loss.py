"""Zero loss: `sensorgrid ingest` as a real process, killed, starved of its database,
cut off from its broker. Each test runs its own Mosquitto (and PostgreSQL where it stops
one) and its own database, migrated by `sensorgrid migrate`."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.ingest.mqtt.conftest import eventually, send
from tests.servers import Postgres

pytestmark = pytest.mark.slow

DEVICES = ("loss-1", "loss-2", "loss-3", "loss-4")
ROUTES = "sensorgrid/{device}/up=json"
SEED = f"""
from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.models import Organization
org = Organization.objects.create(name="Loss test", slug="loss-test")
for device in {DEVICES!r}:
    Node.objects.create(organization=org, device_id=device)
"""


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def run_sensorgrid(url: str, *args: str, timeout: float = 120) -> None:
    environment = {**os.environ, "SENSORGRID_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "sensorgrid", *args],
        env=environment,
        check=True,
        capture_output=True,
        timeout=timeout,
    )


def prepare(url: str) -> str:
    run_sensorgrid(url, "migrate", "--no-input")
    run_sensorgrid(url, "shell", "-c", SEED)
    return url


@pytest.fixture
def database(tmp_path):
    """A migrated database of the run's kind with the nodes of DEVICES."""
    if not on_postgres():
        yield prepare(f"sqlite:///{tmp_path / 'loss.sqlite3'}")
        return
    default = settings.DATABASES["default"]
    server = f"postgres://{default['USER']}@{default['HOST']}:{default['PORT'] or 5432}"
    name = f"sg_loss_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield prepare(f"{server}/{name}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def count(url: str, table: str = "telemetry_sample") -> int:
    query = f"SELECT count(*) FROM {table}"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as connection:
            return connection.execute(query).fetchone()[0]
    with psycopg.connect(url, connect_timeout=3) as connection:
        return connection.execute(query).fetchone()[0]


def count_or_none(url: str) -> int | None:
    try:
        return count(url)
    except (psycopg.OperationalError, sqlite3.OperationalError):
        return None


class Ingest:
    """`sensorgrid ingest` in its own process, always with the same client id."""

    def __init__(self, broker_url: str, database_url: str, log: Path, *extra: str) -> None:
        self.command = [
            sys.executable,
            "-m",
            "sensorgrid",
            "ingest",
            "--broker",
            broker_url,
            "--client-id",
            "loss-test",
            *extra,
        ]
        self.environment = {
            **os.environ,
            "SENSORGRID_DATABASE_URL": database_url,
            "SENSORGRID_MQTT_ROUTES": ROUTES,
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Ingest":
        before = self.connections()
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                self.command, env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        eventually(lambda: self.connections() > before, timeout=30, what="ingest connected")
        return self

    def connections(self) -> int:
        return self.text().count("subscribing to")

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def signal(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def readings(count: int, start: datetime):
    for n in range(count):
        device = DEVICES[n % len(DEVICES)]
        ts = start + timedelta(seconds=n)
        yield f"sensorgrid/{device}/up", {"ts": ts.isoformat(), "values": {"co2": 400 + n % 500}}


@pytest.fixture
def ingest(tmp_path, mosquitto, database):
    processes = []

    def make(*extra: str, url: str | None = None) -> Ingest:
        process = Ingest(mosquitto.url, url or database, tmp_path / "ingest.log", *extra)
        processes.append(process)
        return process

    yield make
    for process in processes:
        process.stop()


def test_sigkill_three_times_under_100000_messages_loses_and_duplicates_nothing(
    ingest, mosquitto, database
):
    total = 100_000
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    worker = ingest().start()  # creates the persistent session
    published = []
    publisher = threading.Thread(
        target=lambda: published.append(send(mosquitto.url, readings(total, start)))
    )
    publisher.start()
    for _ in range(3):
        eventually(lambda: (count(database) or 0) > 0, timeout=60, what="progress")
        time.sleep(1.5)
        assert worker.signal(signal.SIGKILL) == -signal.SIGKILL
        worker = ingest().start()
    publisher.join(120)
    assert published == [total]
    eventually(lambda: count(database) == total, timeout=180, what=f"{total} samples")
    time.sleep(1)  # anything redelivered late would show up now
    assert count(database) == total
    assert count(database, "telemetry_deadletter") == 0
    assert worker.text().count("session resumed") >= 3


def test_sigterm_stores_and_acknowledges_the_current_batch_then_exits(ingest, mosquitto, database):
    # A batch that would wait 30 s: only the shutdown can cut it.
    worker = ingest("--batch-ms", "30000", "--batch-size", "100000").start()
    assert send(mosquitto.url, readings(50, datetime.now(UTC) - timedelta(hours=1))) == 50
    time.sleep(1)
    assert count(database) == 0
    assert worker.signal(signal.SIGTERM) == 0
    assert count(database) == 50
    assert "stopped after storing 50 messages" in worker.text()
    # Acknowledged: the session holds nothing for the next run.
    again = ingest("--idle-exit", "1").start()
    assert again.process.wait(timeout=30) == 0
    assert again.text().count("stopped after storing 0 messages") == 1


def test_a_broker_restart_under_load_resumes_the_session(ingest, mosquitto, database):
    total = 20_000
    worker = ingest().start()
    assert worker.signal(signal.SIGTERM) == 0  # the session stays, with its subscription
    assert send(mosquitto.url, readings(total, datetime.now(UTC) - timedelta(days=1))) == total
    worker = ingest().start()
    eventually(lambda: (count(database) or 0) > 0, what="draining started")
    mosquitto.restart()  # Mosquitto saves the session and its queue when it stops
    eventually(lambda: count(database) == total, timeout=120, what=f"{total} samples")
    # On a quiet machine the backlog can be stored before the broker is back: the
    # reconnection is then still to come when the samples are all there.
    eventually(lambda: worker.connections() == 3, timeout=60, what="the reconnection")
    assert worker.connections() == 3 and worker.text().count("session resumed") == 2
    assert "lost the broker" in worker.text()


@pytest.mark.skipif(not on_postgres(), reason="runs in the PostgreSQL pass (initdb/pg_ctl)")
def test_postgresql_down_for_30s_under_load_loses_nothing_and_memory_stays_flat(ingest, mosquitto):
    server = Postgres().start()
    try:
        url = prepare(server.url)
        worker = ingest("--batch-size", "500", url=url)
        worker.environment["SENSORGRID_MQTT_INFLIGHT"] = "2000"
        worker.start()
        total = 40_000
        start = datetime.now(UTC) - timedelta(days=1)
        published = []

        def paced():  # about 1,000 messages a second for 40 s
            began = time.monotonic()
            for n, message in enumerate(readings(total, start)):
                if n % 1000 == 0:
                    time.sleep(max(0.0, began + n / 1000 - time.monotonic()))
                yield message

        publisher = threading.Thread(target=lambda: published.append(send(mosquitto.url, paced())))
        publisher.start()
        eventually(lambda: (count(url) or 0) > 2000, what="ingest running")
        server.stop()
        rss_at_outage = worker.rss_kib()
        outage_ends = time.monotonic() + 30
        peak = rss_at_outage
        while time.monotonic() < outage_ends:
            peak = max(peak, worker.rss_kib())
            time.sleep(0.5)
        assert worker.process.poll() is None, "ingest died while the database was down"
        server.start()
        publisher.join(120)
        assert published == [total]
        eventually(lambda: count_or_none(url) == total, timeout=120, what=f"{total} samples")
        assert "database unavailable" in worker.text()
        # ~10,000 messages arrived during the outage; the broker kept them, not ingest.
        assert peak - rss_at_outage < 40 * 1024, f"RSS grew {peak - rss_at_outage} KiB"
    finally:
        server.remove()
