"""`sensorgrid worker` as an operator runs it: it beats, sweeps device health, and
stops cleanly on SIGTERM."""

import os
import sqlite3
import subprocess
import sys
import time

import pytest
from django.conf import settings

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = pytest.mark.slow


def sensorgrid(*args, env) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sensorgrid", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(ON_POSTGRES, reason="the embedded defaults (SQLite queue): SQLite pass")
def test_the_worker_beats_sweeps_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "SENSORGRID_VAR_DIR": str(tmp_path), "SENSORGRID_DATABASE_URL": ""}
    sensorgrid("migrate", "-v0", env=env)
    sensorgrid(
        "shell",
        "-c",
        "from django.utils import timezone; from tests.factories import NodeFactory; "
        "NodeFactory(device_id='seen', sampling_interval=60); "
        "from sensorgrid.inventory.models import Node; "
        "Node.objects.filter(device_id='seen').update(last_seen=timezone.now())",
        env=env,
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "sensorgrid", "worker"], env=env, stdout=log, stderr=log
    )
    database = sqlite3.connect(tmp_path / "sensorgrid.sqlite3", timeout=10)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != "ALIVE":
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.3)
            row = database.execute(
                "SELECT status FROM inventory_node WHERE device_id = 'seen'"
            ).fetchone()
            status = row[0]
        assert status == "ALIVE", (tmp_path / "worker.log").read_text()[-3000:]
        assert database.execute("SELECT count(*) FROM worker_heartbeat").fetchone()[0] == 1
        assert (tmp_path / "worker-queue.sqlite3").exists()
    finally:
        worker.terminate()
        assert worker.wait(timeout=40) == 0
        database.close()
    assert "Consumer exiting" in (tmp_path / "worker.log").read_text()
