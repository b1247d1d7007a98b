"""What every benchmark needs: a fresh database, Django, free ports, a tuned broker, a
server that answers, and the CPU and memory of processes as /proc tells them."""

import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.append(str(ROOT))  # tests.support.publisher: the load generator

TICK = os.sysconf("SC_CLK_TCK")

MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
max_queued_messages 0
max_inflight_messages 0
persistence false
{user}"""


def recreate_database(url: str, template: str | None = None) -> None:
    """Drop the database of ``url`` and create it anew, empty or a copy of ``template``."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        extra = ""
        if template:  # Django's pooled connections to the template would block the copy
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (template,),
            )
            extra = f' TEMPLATE "{template}"'
        conn.execute(f'CREATE DATABASE "{name}"{extra}')


def setup_django(url: str) -> None:
    os.environ["SENSORGRID_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_mosquitto(directory: Path) -> tuple[subprocess.Popen, int]:
    """A Mosquitto on a free port, tuned so that it never drops a slow subscriber's QoS 1."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "mosquitto.conf"
    user = "user root\n" if os.geteuid() == 0 else ""
    config.write_text(MOSQUITTO_CONF.format(port=port, user=user))
    process = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: connects(port), "mosquitto", timeout=10, every=0.05)
    return process, port


def connects(port: int) -> bool:
    """Whether something accepts a TCP connection on ``port`` of this machine."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60, every: float = 0.2) -> None:
    """Until ``check()`` is true; an error naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise RuntimeError(f"{what} did not start")


def wait_healthy(process: subprocess.Popen, port: int, timeout: float = 180) -> None:
    """Until the server started as ``process`` answers GET /healthz with 200 on ``port``;
    an error if it exits first, or (stopping it) if it has not answered in ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.args}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"server did not start within {timeout:.0f} s")


def ticks(pid: int) -> int:
    """CPU clock ticks (user + system, ``TICK`` a second) a process has used; 0 once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0
    fields = data[data.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def descendants(pid: int) -> list[int]:
    """The processes a process started, and theirs (uvicorn's workers, Huey's), by pid."""
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found + [g for c in found for g in descendants(c)]


def start_server(url: str, workers: int = 1) -> tuple[subprocess.Popen, int]:
    """``sensorgrid serve`` on a free port with the database of ``url``, once it answers."""
    port = free_port()
    env = {**os.environ, "SENSORGRID_DATABASE_URL": url, "SENSORGRID_INGEST_RATE": "100000/sec"}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "sensorgrid", "serve"),
            *("--port", str(port), "--workers", str(workers)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(process, port, timeout=30)
    return process, port


@contextmanager
def signed_in(database: str, user) -> Iterator[Callable[[str, str], bytes]]:
    """A server of its own (one worker) and ``get(path, accept)`` from it as ``user``, with
    a session cookie as a browser asks, one request after the other on one keep-alive
    connection: the body, an error unless 200. The server is stopped on leaving."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    server, port = start_server(database, workers=1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(path: str, accept: str) -> bytes:
        conn.request("GET", path, headers={"Cookie": cookie, "Accept": accept})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return body

    try:
        yield get
    finally:
        conn.close()
        server.terminate()
        server.wait(timeout=10)


def timed(run: Callable[[int], object], repeats: int) -> tuple[float, float]:
    """``run(0)`` … ``run(repeats - 1)`` one after the other: p50 and p95, ms (0.1 ms)."""
    times = []
    for i in range(repeats):
        began = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return round(statistics.median(times), 1), round(times[int(len(times) * 0.95) - 1], 1)


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a process in MB, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    if "VmRSS" not in values:  # a zombie: exited, not yet reaped
        return None
    return values["VmRSS"], values["VmHWM"]


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants (uvicorn's workers, Huey's), in MB."""
    readings = (rss_mb(p) for p in [pid, *descendants(pid)])
    return sum(reading[0] for reading in readings if reading is not None)
