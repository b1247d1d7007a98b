"""Throwaway servers for tests that stop or restart one: never the machine's own.

Each runs on a free port from a temporary directory and is stopped by the test
that started it.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
# The defaults drop QoS 1 messages of a slow subscriber past 1000 queued (docs/deployment.md).
max_queued_messages 0
max_inflight_messages 0
persistence true
persistence_location {directory}/
autosave_interval 0
log_dest file {directory}/mosquitto.log
"""
# Started as root, Mosquitto drops to the user "mosquitto", who cannot write the test's
# private temporary directory.
STAY_ROOT = "user root\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """Serve ``handler`` in threads of this process on a free local port; yields the port.

    For what cannot run here: a webhook receiver, a remote open-data source.
    """
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


class Mosquitto:
    """A Mosquitto broker with persistence, tuned as docs/deployment.md says."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "mosquitto.conf").write_text(
            MOSQUITTO_CONF.format(port=self.port, directory=directory)
            + (STAY_ROOT if os.geteuid() == 0 else "")
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> "Mosquitto":
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [mosquitto, "-c", str(self.directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop cleanly: Mosquitto saves its sessions and queued messages."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()


class Redis:
    """A throwaway redis-server without persistence, for tests that stop it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                redis_server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL")
    return path


class Postgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory).

    PostgreSQL refuses to run as root: as root, the cluster belongs to the user
    "postgres", in a directory of its own that user can reach (not under pytest's
    private tmp_path). ``remove()`` deletes it.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="sensorgrid-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self._user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._user:
            shutil.chown(self.directory, "postgres")
        subprocess.run(
            [
                *self._user,
                _postgres_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> "Postgres":
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            # fsync=off survives a killed server (the OS keeps the writes), not a lost
            # machine; synchronous_commit stays on: a killed server must keep each commit.
            "-c fsync=off"
        )
        subprocess.run(
            [
                *self._user,
                _postgres_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.directory / "postgres.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            [
                *self._user,
                _postgres_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            check=False,
            capture_output=True,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
