"""A real SensorGrid web server (ASGI: pages, API and /ws/live/) on SQLite demo data,
for the browser tests and bench/screenshots.py.

pytest-django's live_server speaks WSGI only, so the WebSocket needs `sensorgrid serve`
in a process of its own, on a database of its own in a temporary directory.
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port, wait_for_port

PASSWORD = "demo-password"
#: a phone's viewport (the dashboard must not scroll sideways on it)
PHONE = {"width": 390, "height": 844}
# Migrated demo databases by environment (apart from the directory): the first server of a
# test run runs `migrate` and `loaddemo` (~15 s of CPU), the next ones copy its files.
_TEMPLATES: dict[str, Path] = {}
# Debian's Chromium (.ci/run installs it); Playwright drives it, it downloads no browser.
CHROMIUM = Path("/usr/bin/chromium")


class SensorGridServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "SENSORGRID_VAR_DIR": str(directory),
            "SENSORGRID_DATABASE_URL": "",
            "SENSORGRID_REDIS_URL": "",
            "SENSORGRID_LOG_FORMAT": "text",
            # No network in tests: no tile server, the maps draw the offline basemap.
            "SENSORGRID_MAP_TILES": "off",
            # Webhook receivers of the browser tests listen on loopback (outbound guard).
            "SENSORGRID_OUTBOUND_ALLOW": "127.0.0.0/8",
        }
        self.process: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}

    def manage(self, *args: str, directory: Path | None = None) -> None:
        environment = self.environment
        if directory is not None:
            environment = {**environment, "SENSORGRID_VAR_DIR": str(directory)}
        subprocess.run(
            [sys.executable, "-m", "sensorgrid", *args],
            env=environment,
            check=True,
            capture_output=True,
        )

    def load_demo(self) -> None:
        """This server's directory holds the migrated demo database: copied from the
        template made for the same environment, made first if there is none yet."""
        key = json.dumps(
            sorted(item for item in self.environment.items() if item[0] != "SENSORGRID_VAR_DIR")
        )
        template = _TEMPLATES.get(key)
        if template is None:
            template = Path(tempfile.mkdtemp(prefix="sensorgrid-demo-"))
            atexit.register(shutil.rmtree, template, ignore_errors=True)
            self.manage("migrate", "--no-input", directory=template)
            self.manage("loaddemo", directory=template)
            _TEMPLATES[key] = template
        shutil.copytree(template, self.directory, dirs_exist_ok=True)

    def start(self) -> "SensorGridServer":
        self.load_demo()
        self.log = (self.directory / "serve.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sensorgrid", "serve", "--port", str(self.port)],
            env=self.environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        # generous: a loaded machine (CI runs two test passes side by side) starts it slowly
        try:
            wait_for_port(self.port, timeout=120)
        except AssertionError as error:
            raise AssertionError(f"{error}; the server said:\n{self.output()}") from None
        return self

    def start_worker(self) -> subprocess.Popen:
        """`sensorgrid worker` on this server's database and queue (sends deliveries)."""
        self.worker_log = (self.directory / "worker.log").open("w")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "sensorgrid", "worker", "--threads", "1", "--no-periodic"],
            env=self.environment,
            stdout=self.worker_log,
            stderr=subprocess.STDOUT,
        )
        return self.worker

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.worker.kill()
            self.worker = None
            self.worker_log.close()

    def stop(self) -> None:
        self.stop_worker()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()

    def output(self) -> str:
        return (self.directory / "serve.log").read_text()[-3000:]

    def call(self, path: str, body=None, token: str = "", bearer: str = "") -> dict:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def token(self, user: str) -> str:
        if user not in self.tokens:
            answer = self.call("/api/v1/auth/token/", {"username": user, "password": PASSWORD})
            self.tokens[user] = answer["token"]
        return self.tokens[user]

    def node(self, user: str, device_id: str) -> dict:
        nodes = self.call(f"/api/v1/nodes/?device_id={device_id}", token=self.token(user))
        return nodes["results"][0]

    def credential(self, user: str, node_id: int) -> str:
        answer = self.call(
            f"/api/v1/nodes/{node_id}/rotate-credential/", {}, token=self.token(user)
        )
        return answer["credential"]

    def ingest(self, credential: str, messages) -> dict:
        return self.call("/api/v1/ingest/", messages, bearer=credential)

    def websocket_ready(self) -> bool:
        """Whether /ws/live/ accepts an upgrade (the live backend is installed)."""
        import base64
        import socket

        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/live/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{self.port}\r\n\r\n"
        )
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(request.encode())
                return sock.recv(200).startswith(b"HTTP/1.1 101")
        except OSError:
            return False


def watched_page(context):
    """A new page of the browser ``context`` that collects its script errors and the
    Content Security Policy's refusals in ``page.problems``."""
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on(
        "console",
        lambda m: page.problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def fits_the_screen(page) -> None:
    """The page, once loaded, is no wider than a phone: no sideways scrolling. Waits for the
    load first: right after a click that navigates, the new document may have no root yet."""
    page.wait_for_load_state()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px"


def log_in(page, base: str, user: str, path: str = "/") -> None:
    """Log ``user`` in through the login form, which then opens ``path``."""
    page.goto(f"{base}/login/?next={path}")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{path}")


@contextmanager
def signing_in(browser, server: SensorGridServer, **context_options):
    """``sign_in(user, path)`` opens a page in a browser context of its own, logged in
    as ``user`` on ``path``; at the end no page may have had a problem (watched_page)."""
    contexts = []

    def sign_in(user: str, path: str = "/"):
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = watched_page(context)
        log_in(page, server.base, user, path)
        return page

    yield sign_in
    for context in contexts:
        assert [page.problems for page in context.pages] == [[]] * len(context.pages)
        context.close()


def wait_until(predicate, timeout: float = 10, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(interval)
    raise AssertionError(f"not true after {timeout}s: {predicate}")
