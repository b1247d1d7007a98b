"""`sensorgrid ingest` as an operator runs it (issue 16, item 13): a broker that refuses
the connection, a host that does not resolve or refused credentials are a clear error
and exit 1 at start; once connected, an outage is logged and waited out; a persistent
session that comes back new after a reconnect is a loud warning and a metric."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import Mosquitto, free_port

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ON_POSTGRES, reason="process tests on the embedded SQLite database"),
]

CONNECT_TIMEOUT = 4


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("ingest-cli")
    subprocess.run(
        [sys.executable, "-m", "sensorgrid", "migrate", "-v0"],
        env=environment(directory),
        check=True,
        timeout=120,
    )
    return directory


def environment(var_dir: Path, **variables) -> dict:
    return {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(var_dir),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_REDIS_URL": "",
        "SENSORGRID_LOG_FORMAT": "text",
        "SENSORGRID_MQTT_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        **variables,
    }


def ingest(var_dir: Path, broker: str, connect_timeout: float = CONNECT_TIMEOUT):
    """Run `sensorgrid ingest` to its end: (exit code, output, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sensorgrid", "ingest", "--broker", broker],
        env=environment(var_dir, SENSORGRID_MQTT_CONNECT_TIMEOUT=str(connect_timeout)),
        capture_output=True,
        text=True,
        timeout=connect_timeout + 60,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def test_a_refused_connection_is_logged_and_exits_1_after_the_connect_timeout(var_dir):
    port = free_port()  # nothing listens there
    code, output, took = ingest(var_dir, f"mqtt://127.0.0.1:{port}")
    assert code == 1, output
    assert "Traceback" not in output
    assert re.search(rf"ERROR .*nothing accepts connections on 127.0.0.1:{port}", output), output
    assert "is the MQTT broker running" in output
    assert f"within {CONNECT_TIMEOUT} s" in output  # the CommandError's message
    assert CONNECT_TIMEOUT <= took < CONNECT_TIMEOUT + 20


def test_a_host_that_does_not_resolve_exits_1_at_once(var_dir):
    # Permanent errors do not wait for the connect timeout.
    code, output, took = ingest(var_dir, "mqtt://no-such-broker.invalid:1883", 120)
    assert code == 1, output
    assert "Traceback" not in output
    assert "host 'no-such-broker.invalid' does not resolve" in output
    assert "check the host name in SENSORGRID_MQTT_URL" in output
    assert took < 30


def test_refused_credentials_exit_1_at_once(var_dir, tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto")
    config = broker.directory / "mosquitto.conf"
    config.write_text(config.read_text().replace("allow_anonymous true", "allow_anonymous false"))
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(broker.directory / "passwd"), "ingest", "right"],
        check=True,
        capture_output=True,
    )
    with config.open("a") as conf:
        conf.write(f"password_file {broker.directory / 'passwd'}\n")
    broker.start()
    try:
        broker_url = f"mqtt://ingest:wrong@127.0.0.1:{broker.port}"
        code, output, took = ingest(var_dir, broker_url, 120)
    finally:
        broker.stop()
    assert code == 1, output
    assert "Traceback" not in output and "wrong" not in output  # no password in the logs
    assert "refused to let ingest in" in output
    assert "check the user and password" in output
    assert took < 30


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def wait_for_text(path: Path, text: str, timeout: float, start: int = 0) -> int:
    """Wait until ``text`` appears in the file after offset ``start``; return its offset."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at = path.read_text().find(text, start)
        if at >= 0:
            return at
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{path.read_text()[-3000:]}")


def test_an_outage_is_waited_out_and_a_lost_session_is_a_loud_warning(var_dir, tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto").start()
    metrics_port = free_port()
    log_path = tmp_path / "ingest.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *[sys.executable, "-m", "sensorgrid", "ingest", "--broker", broker.url],
                *["--metrics-port", str(metrics_port), "--client-id", "cli-errors-test"],
            ],
            env=environment(var_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        first = wait_for_text(log_path, "(session new)", timeout=30)
        # A broker restart that keeps its store: the session is resumed, no warning.
        broker.restart()
        at = wait_for_text(log_path, "(session resumed)", timeout=60, start=first)
        assert "SESSION LOST" not in log_path.read_text()
        assert metric(metrics_port, "sensorgrid_ingest_sessions_lost_total") == 0
        # Down for longer than the connect timeout: the running service waits it out.
        broker.stop()
        time.sleep(CONNECT_TIMEOUT + 3)
        assert process.poll() is None, log_path.read_text()[-3000:]
        assert "nothing accepts connections" in log_path.read_text()[at:]
        # It comes back without its store (persistence lost): sessions are gone.
        (broker.directory / "mosquitto.db").unlink(missing_ok=True)
        broker.start()
        wait_for_text(log_path, "SESSION LOST", timeout=60, start=at)
        text = log_path.read_text()
        assert re.search(r"WARNING .*SESSION LOST.*persistence true", text)
        assert metric(metrics_port, "sensorgrid_ingest_sessions_lost_total") == 1
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        finally:
            broker.stop()
    assert code == 0, log_path.read_text()[-3000:]
