"""`sensorgrid simulate` fails loudly and cleanly (issue 16, item 13): bad arguments are a
CommandError before any node is registered, and a broker that cannot be reached is a
warning (at once, then periodically) with the number of queued messages."""

import logging
import os
import signal
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sensorgrid.inventory.models import Node
from sensorgrid.mqtt import parse
from sensorgrid.simulator.queue import OfflineQueue
from sensorgrid.simulator.transports import Mqtt
from tests.servers import free_port


def simulate_process(tmp_path, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SENSORGRID_VAR_DIR": str(tmp_path), "SENSORGRID_DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "sensorgrid", "simulate", "--profile", "room", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_a_queue_limit_below_1_is_a_clean_error(tmp_path, limit):
    done = simulate_process(tmp_path, "--queue-limit", limit, "--queue", str(tmp_path / "q"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"CommandError: --queue-limit {limit}: " in done.stderr


def test_a_queue_that_cannot_be_written_is_a_clean_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for queue in (blocker / "queue.sqlite3", tmp_path):  # under a file; a directory
        done = simulate_process(tmp_path, "--queue", str(queue), "--duration", "1")
        assert done.returncode != 0, done.stdout
        assert "Traceback" not in done.stderr
        assert f"CommandError: --queue {queue}: cannot open the offline queue" in done.stderr


@pytest.mark.parametrize(
    "bad", [["--queue-limit", "0"], ["--queue", "{blocker}/q.sqlite3"], ["--backfill", "soon"]]
)
def test_bad_arguments_register_no_node(world, tmp_path, bad):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = [item.format(blocker=blocker) for item in bad]
    before = Node.objects.count()
    with pytest.raises(CommandError):
        call_command(
            "simulate",
            *["--profile", "room", "--count", "2", "--register", "--organization", "org-a"],
            *(["--queue", str(tmp_path / "q.sqlite3")] if "--queue" not in bad else []),
            *bad,
            stdout=StringIO(),
        )
    assert Node.objects.count() == before


@pytest.mark.slow
def test_an_unreachable_broker_is_a_warning_with_the_queue_size(tmp_path):
    port = free_port()  # nothing listens there
    environment = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(tmp_path),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_LOG_FORMAT": "text",
    }
    log_path = tmp_path / "simulate.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *[sys.executable, "-m", "sensorgrid", "simulate", "--profile", "room"],
                *["--rate", "5", "--broker", f"mqtt://127.0.0.1:{port}"],
                *["--queue", str(tmp_path / "q.sqlite3")],
            ],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "queueing offline" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            assert process.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    text = log_path.read_text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text
    warning = next(line for line in text.splitlines() if "queueing offline" in line)
    assert "WARNING" in warning
    assert f"mqtt://127.0.0.1:{port} unreachable (" in warning
    assert "messages queued" in warning
    assert text.count("queueing offline") == 1  # once, then only every minute
    assert "queued, 0 dropped" in text.splitlines()[-1]  # the closing summary


def test_the_offline_warning_repeats_with_the_growing_count(tmp_path, caplog):
    queue = OfflineQueue(tmp_path / "q.sqlite3", 100)
    broker = parse(f"mqtt://127.0.0.1:{free_port()}")
    transport = Mqtt(broker, "offline-warning-test", warn_every=0.5)
    transport.start()
    try:
        with caplog.at_level(logging.WARNING, logger="sensorgrid.simulator.transports"):
            deadline = time.monotonic() + 10
            count = 0
            while time.monotonic() < deadline and len(caplog.records) < 3:
                count += 1
                queue.put("dev-1", "sensorgrid/dev-1/up", b"{}", count)
                transport.pump(queue)
                time.sleep(0.05)
    finally:
        transport.stop()
        queue.close()
    warnings = [r.getMessage() for r in caplog.records if "queueing offline" in r.getMessage()]
    assert len(warnings) >= 3, warnings
    queued = [int(w.split("queueing offline: ")[1].split(" ")[0]) for w in warnings]
    assert queued == sorted(queued) and queued[-1] > queued[0]
    assert "Connection refused" in warnings[0]
