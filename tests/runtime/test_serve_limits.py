"""Slow clients against the real `sensorgrid serve` (issue 16, item 12): connections that
never finish their headers or body are closed after the timeouts, a normal request is
answered meanwhile, an open WebSocket outlives the timeouts, and beyond the connection
cap a new connection gets 503 at once."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest
from django.conf import settings

from tests.servers import free_port, wait_for_port

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
# uvicorn and the protocol are the same on both databases: one pass is enough.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ON_POSTGRES, reason="the server's limits: tested in the SQLite pass"),
]

TIMEOUT = 2  # seconds, for headers and body alike
SLOW_CLIENTS = 500


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("serve")
    environment = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(directory),
        "SENSORGRID_DATABASE_URL": "",
    }
    subprocess.run(
        [sys.executable, "-m", "sensorgrid", "migrate", "-v0"],
        env=environment,
        check=True,
        timeout=120,
    )
    return directory


@contextmanager
def serving(var_dir, *arguments: str, **variables):
    port = free_port()
    environment = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(var_dir),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_REDIS_URL": "",
        "SENSORGRID_SERVE_HEADER_TIMEOUT": str(TIMEOUT),
        "SENSORGRID_SERVE_BODY_TIMEOUT": str(TIMEOUT),
        **variables,
    }
    log_path = var_dir / f"serve-{port}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "sensorgrid", "serve", "--port", str(port), *arguments],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, timeout=30)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def healthz(port: int, timeout: float = 5) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
        return response.status


def test_several_worker_processes_start_and_answer(var_dir):
    # Each worker of --workers N is a fresh interpreter that imports the WebSocket
    # protocol class before the application (a worker that failed there left the
    # port open with nobody answering).
    with serving(var_dir, "--workers", "2") as port:
        assert healthz(port, timeout=90) == 200


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing (b"" if nothing); None if still open."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def test_connections_that_stall_in_their_headers_are_closed_while_others_are_served(var_dir):
    with serving(var_dir) as port:
        stalled = []
        try:
            for index in range(SLOW_CLIENTS):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                # A request line and part of the headers; the blank line never comes.
                partial = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                sock.sendall(partial if index % 2 else partial[:9])  # some stop mid-line
                stalled.append(sock)
            opened = time.monotonic()
            assert healthz(port) == 200  # a normal client is not held up meanwhile
            assert time.monotonic() - opened < TIMEOUT
            deadline = opened + TIMEOUT + 10
            answers = [
                closed_by_server(sock, within=max(0.01, deadline - time.monotonic()))
                for sock in stalled
            ]
            took = time.monotonic() - opened
        finally:
            for sock in stalled:
                sock.close()
        assert answers.count(None) == 0, f"{answers.count(None)} of {SLOW_CLIENTS} still open"
        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
        assert took < TIMEOUT + 10
        assert healthz(port) == 200


def test_a_connection_that_sends_nothing_is_closed(var_dir):
    with serving(var_dir) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        assert closed_by_server(sock, within=TIMEOUT + 5) is not None


def test_headers_that_trickle_in_are_cut_at_the_deadline_not_per_byte(var_dir):
    with serving(var_dir) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sock.settimeout(0.5)
        answer = None
        for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(4096)
                break  # the server answered (or closed: b"")
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                answer = b""
                break
        assert answer is not None, "still open after 50 s of trickling headers"
        assert time.monotonic() - started < TIMEOUT + 3


def test_a_stalled_request_body_is_cut(var_dir):
    with serving(var_dir) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                b"POST /api/v1/ingest/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"
            )
            started = time.monotonic()
            answer = closed_by_server(sock, within=TIMEOUT + 10)
            assert answer is not None, "a body stalled for longer than the timeout stays open"
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert TIMEOUT - 0.5 < time.monotonic() - started < TIMEOUT + 5
        assert healthz(port) == 200


def test_a_slow_body_that_keeps_moving_is_read(var_dir):
    """The body timeout is per pause (as nginx's): a slow but steady upload is fine."""
    body = json.dumps([{"device": "nope", "values": {"co2": 1}}]).encode()
    with serving(var_dir) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                b"POST /api/v1/ingest/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
            )
            for at in range(0, len(body), len(body) // 4 + 1):
                time.sleep(TIMEOUT / 2)
                sock.sendall(body[at : at + len(body) // 4 + 1])
            answer = closed_by_server(sock, within=10)
        # Read and answered by the application (no credential: 401), not cut with 408.
        assert answer is not None and answer.startswith(b"HTTP/1.1 401 ")


def test_an_open_websocket_survives_the_timeouts(var_dir):
    import websockets

    async def scenario(port):
        url = f"ws://127.0.0.1:{port}/ws/live/"
        async with websockets.connect(url, origin=f"http://127.0.0.1:{port}") as ws:
            await asyncio.sleep(TIMEOUT * 2)
            await ws.send(json.dumps({"subscribe": {"node": 999999}}))
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

    with serving(var_dir) as port:
        answer = asyncio.run(scenario(port))
    assert answer["type"] in ("subscribed", "error")  # the server still talks to it


def test_beyond_the_connection_cap_a_new_connection_gets_503(var_dir):
    cap = 20
    with serving(var_dir, SENSORGRID_SERVE_MAX_CONNECTIONS=str(cap)) as port:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(cap)]
        try:
            time.sleep(0.5)  # accepted by the server
            with socket.create_connection(("127.0.0.1", port)) as extra:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = closed_by_server(extra, within=5)
            assert answer is not None and answer.startswith(b"HTTP/1.1 503 ")
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.5)
        assert healthz(port) == 200  # the cap frees up with the connections
