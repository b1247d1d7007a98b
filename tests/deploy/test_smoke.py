"""The production path end to end: the installed wheel behind nginx, as docs/deployment.md
sets it up, used over HTTPS the way a city's users and devices use it.

One platform for the module, started from the wheel that tests/deploy/test_wheel.py builds
and installs into a fresh venv (its fixture, not a second build):

- a throwaway PostgreSQL database with the least-privilege roles of `sensorgrid dbroles`
  (migrated as the owner; every process runs as the application role),
- a throwaway Redis (cache, live channel layer, worker queue) and a throwaway Mosquitto
  with the dynamic security plugin (`sensorgrid broker sync` makes the ingest account),
- `sensorgrid serve --workers 2` with the production variables (DEBUG off, secret key from
  a file, HTTPS redirect, secure cookies, HSTS), two `sensorgrid ingest` on one shared
  subscription, one `sensorgrid worker`,
- nginx (Debian's package) with deploy/nginx/sensorgrid.conf, ports and paths swapped,
  terminating TLS with a certificate of a throwaway CA.

Then, over HTTPS verified against that CA: log in, create a node through the API, ingest
over HTTP with its credential and over MQTT with the same credential at the broker (the
worker's outbox gave the node its account), both values arriving at `wss://…/ws/live/`
through nginx; `/readyz` with every part up; `/metrics` parsed. PostgreSQL only: the
roles are PostgreSQL's, and production runs on it (the SQLite pass runs test_wheel.py).
"""

import asyncio
import dataclasses
import http.client
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import requests
import websockets
from django.conf import settings
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.test_dbroles import superuser, url
from tests.deploy.test_wheel import installed, wheel  # noqa: F401 (fixtures: one build)
from tests.servers import Redis, free_port, wait_for_port
from tests.support.commands import Sensorgrid, stop
from tests.support.dynsec_broker import DynsecMosquitto
from tests.support.tls import Authority

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="production runs on PostgreSQL with the database roles: the PostgreSQL pass",
    ),
]

CHECKOUT = Path(__file__).resolve().parents[2]
NGINX_SITE = CHECKOUT / "deploy" / "nginx" / "sensorgrid.conf"
# The name the certificate is for and the server answers to; it resolves to 127.0.0.1 here.
HOST = "localhost"
INGEST_USER = "sg-ingest"

# What nginx needs around the site file when it runs as a child of the test: everything
# it writes in the test's directory, nothing under /var or /run.
NGINX_MAIN = """\
daemon off;
master_process on;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
{user}
events {{ worker_connections 256; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/sensorgrid.conf;
}}
"""

# The organization and its owner, made by the installed code as the application role.
SETUP = """
from sensorgrid.tenancy.models import Membership, Organization, User
org = Organization.objects.create(name="Smoke City", slug="smoke-city")
user = User.objects.create_user("it-admin", password={password!r})
Membership.objects.create(user=user, organization=org, role="owner")
print(org.pk)
"""


def render_site(
    directory: Path, *, serve_port: int, http_port: int, https_port: int, cert: Path, key: Path
) -> str:
    """deploy/nginx/sensorgrid.conf with this run's ports and files, each swap checked:
    a documented config that no longer has the line fails here instead of going untested."""
    site = NGINX_SITE.read_text()
    swaps = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{serve_port};", 1),
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1),
        ("server_name sensors.example.org;", f"server_name {HOST};", 2),
        ("/etc/ssl/certs/sensors.example.org.crt", str(cert), 1),
        ("/etc/ssl/private/sensors.example.org.key", str(key), 1),
    ]
    for old, new, count in swaps:
        assert site.count(old) == count, f"{NGINX_SITE} no longer has {old!r} {count}x"
        site = site.replace(old, new)
    (directory / "sensorgrid.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""  # workers read the test's 0700 dirs
    main = directory / "nginx.conf"
    main.write_text(NGINX_MAIN.format(directory=directory, user=user))
    return str(main)


@dataclasses.dataclass
class Platform:
    base: str  # https://localhost:<port>
    http_base: str  # the plain-HTTP listener of nginx
    ca: Path
    org_id: int
    password: str
    server: Sensorgrid
    processes: dict[str, subprocess.Popen[bytes]]
    broker: DynsecMosquitto

    def session(self) -> requests.Session:
        session = requests.Session()
        # Not the machine's bundle from REQUESTS_CA_BUNDLE, which would win over verify.
        session.trust_env = False
        session.verify = str(self.ca)
        return session

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(found).exists(), "nginx is not installed (apt-get install nginx; .ci/run does)"
    return found


@pytest.fixture(scope="module")
def platform(installed, tmp_path_factory) -> Iterator[Platform]:  # noqa: F811
    started = time.monotonic()
    directory = tmp_path_factory.mktemp("smoke")
    suffix = secrets.token_hex(4)
    name = f"sg_smoke_{suffix}"
    owner, app, reporting = f"sg_owner_{suffix}", f"sg_app_{suffix}", f"sg_reporting_{suffix}"
    admin = superuser()
    with ExitStack() as cleanup:
        admin.execute(f'CREATE DATABASE "{name}"')

        @cleanup.callback
        def drop_database() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in (reporting, app, owner):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')
            admin.close()

        secrets_dir = directory / "secrets"
        secrets_dir.mkdir(mode=0o700)

        def secret_file(label: str) -> tuple[str, Path]:
            value = secrets.token_urlsafe(18)
            path = secrets_dir / label
            path.write_text(value + "\n")
            path.chmod(0o600)
            return value, path

        owner_password, owner_file = secret_file("owner.pw")
        app_password, app_file = secret_file("app.pw")
        _, ingest_file = secret_file("ingest.pw")
        user_password, _ = secret_file("it-admin.pw")

        # Redis and the broker, each thrown away at the end.
        redis = Redis().start()
        cleanup.callback(redis.stop)
        broker = DynsecMosquitto(directory / "mosquitto").start()
        cleanup.callback(broker.stop)
        admin_password_file = secrets_dir / "mqtt-admin.pw"
        admin_password_file.write_text(broker.admin_password + "\n")

        base_environment = {
            k: v for k, v in installed.environment.items() if k != "SENSORGRID_DATABASE_URL"
        }
        server = dataclasses.replace(
            installed,
            environment=base_environment
            | {
                "SENSORGRID_DATABASE_URL": url(app, name, app_password),
                "SENSORGRID_ALLOWED_HOSTS": HOST,
                "SENSORGRID_NUM_PROXIES": "1",
                "SENSORGRID_REDIS_URL": redis.url,
                # The ingest service's account: the name, and the password from a file.
                "SENSORGRID_MQTT_URL": broker.url,
                "SENSORGRID_MQTT_USERNAME": INGEST_USER,
                "SENSORGRID_MQTT_PASSWORD_FILE": str(ingest_file),
                "SENSORGRID_MQTT_SHARED_GROUP": "sensorgrid",
                "SENSORGRID_BROKER_AUTH": "dynsec",
                "SENSORGRID_MQTT_ADMIN_USERNAME": broker.admin,
                "SENSORGRID_MQTT_ADMIN_PASSWORD_FILE": str(admin_password_file),
                "SENSORGRID_METRICS_DIR": str(directory / "metrics"),
                "SENSORGRID_READYZ_REQUIRED": "cache,broker,worker",
            },
        )
        # docs/deployment.md, "Database roles": the superuser makes the roles, the owner
        # migrates, everything else runs as the application.
        server.run(
            "dbroles",
            "--apply",
            "--database-url",
            url(settings.DATABASES["default"]["USER"], name),
            "--owner",
            owner,
            "--app",
            app,
            "--reporting",
            reporting,
            "--owner-password-file",
            str(owner_file),
            "--app-password-file",
            str(app_file),
        )
        roles_done = time.monotonic()
        server.run(
            "migrate",
            "--no-input",
            "-v0",
            timeout=300,
            SENSORGRID_DATABASE_URL=url(owner, name, owner_password),
        )
        migrated = time.monotonic()

        serve_port, http_port, https_port = free_port(), free_port(), free_port()
        processes: dict[str, subprocess.Popen[bytes]] = {}

        def start(label: str, *args: str) -> None:
            processes[label] = server.start(label, *args)
            cleanup.callback(stop, processes[label])

        # The web server and the worker start while the broker account and the first user
        # are made (a loaded machine takes seconds for each process to import Django).
        start("serve", "serve", "--host", "127.0.0.1", "--port", str(serve_port), "--workers", "2")
        start("worker", "worker")
        with ThreadPoolExecutor(2) as pool:
            # "Broker authentication", setup step 4: the ingest account, before ingest starts
            # (the ingesters' connecting below is the proof; the worker's reconcile may have
            # made it first).
            synced = pool.submit(server.run, "broker", "sync")
            made = pool.submit(server.run, "shell", "-c", SETUP.format(password=user_password))
            synced.result()
            org_id = int(made.result().stdout.split()[-1])
        prepared = time.monotonic()
        start("ingest-1", "ingest", "--instance", "1")
        start("ingest-2", "ingest", "--instance", "2")

        nginx_dir = directory / "nginx"
        nginx_dir.mkdir()
        authority = Authority.make(directory / "ca")
        certificate = authority.issue(HOST, hosts=(HOST,))
        config = render_site(
            nginx_dir,
            serve_port=serve_port,
            http_port=http_port,
            https_port=https_port,
            cert=certificate.cert,
            key=certificate.key,
        )
        nginx = [nginx_binary(), "-p", str(nginx_dir), "-c", config, "-e", f"{nginx_dir}/error.log"]
        tested = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=30)
        assert tested.returncode == 0, tested.stderr
        with (nginx_dir / "stderr.log").open("w") as log:
            processes["nginx"] = subprocess.Popen(nginx, stdout=log, stderr=subprocess.STDOUT)
        cleanup.callback(stop, processes["nginx"])

        wait_for_port(https_port, timeout=30)
        wait_for_port(serve_port, timeout=60)
        platform = Platform(
            base=f"https://{HOST}:{https_port}",
            http_base=f"http://{HOST}:{http_port}",
            ca=authority.cert,
            org_id=org_id,
            password=user_password,
            server=server,
            processes=processes,
            broker=broker,
        )
        print(
            f"smoke platform: roles {roles_done - started:.1f} s, "
            f"migrate {migrated - roles_done:.1f} s, "
            f"broker sync and first user {prepared - migrated:.1f} s, "
            f"then all up in {time.monotonic() - prepared:.1f} s"
        )
        yield platform


def platform_log(platform: Platform, label: str) -> str:
    if label == "nginx":
        return ""
    return platform.server.log(label)[-3000:]


def log_in(platform: Platform) -> requests.Session:
    session = platform.session()
    page = session.get(f"{platform.base}/login/", timeout=30)
    assert page.status_code == 200, page.text[:500]
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{platform.base}/login/",
        data={"username": "it-admin", "password": platform.password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{platform.base}/login/", "Origin": platform.base},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:1000]
    return session


def test_login_over_https_gives_a_secure_session_cookie_and_hsts(platform):
    session = log_in(platform)
    (cookie,) = [c for c in session.cookies if c.name == "sessionid"]
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
    home = session.get(f"{platform.base}/", timeout=30)
    assert home.status_code == 200 and "it-admin" in home.text
    hsts = home.headers["Strict-Transport-Security"]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    # nginx passes the application's Content-Security-Policy on, and adds none of its own.
    assert home.raw.headers.getlist("Content-Security-Policy") == [
        home.headers["Content-Security-Policy"]
    ]
    assert "script-src 'self'" in home.headers["Content-Security-Policy"]
    # nginx's plain-HTTP listener only redirects to HTTPS.
    plain = requests.get(f"{platform.http_base}/login/", allow_redirects=False, timeout=30)
    assert (plain.status_code, plain.headers["Location"]) == (301, f"https://{HOST}/login/")


def test_a_node_made_in_the_api_ingests_over_http_and_mqtt_and_both_reach_the_live_socket(
    platform,
):
    session = log_in(platform)
    created = session.post(
        f"{platform.base}/api/v1/nodes/",
        json={"organization": platform.org_id, "device_id": "smoke1"},
        headers={
            "X-CSRFToken": session.cookies["csrftoken"],
            "Referer": f"{platform.base}/",
            "Origin": platform.base,
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    node = created.json()
    credential = node["credential"]
    cookie = f"sessionid={session.cookies['sessionid']}"

    def http_ingest(co2: float) -> None:
        reading = {"device": "smoke1", "ts": datetime.now(UTC).isoformat(), "values": {"co2": co2}}
        answer = requests.post(
            f"{platform.base}/api/v1/ingest/",
            json=[reading],
            headers={"Authorization": f"Bearer {credential}"},
            verify=str(platform.ca),
            timeout=30,
        )
        assert answer.status_code in (200, 201, 202), answer.text

    async def scenario() -> dict[str, float]:
        timings: dict[str, float] = {}
        async with websockets.connect(
            f"wss://{HOST}:{platform.base.rsplit(':', 1)[1]}/ws/live/",
            ssl=platform.ssl_context(),
            origin=platform.base,
            additional_headers={"Cookie": cookie},
        ) as ws:
            await ws.send(json.dumps({"subscribe": {"node": node["id"]}}))
            subscribed = json.loads(await ws.recv())
            assert subscribed["type"] == "subscribed" and subscribed["nodes"] == [node["id"]]
            assert json.loads(await ws.recv())["type"] == "snapshot"

            async def delta_with(co2: float, timeout: float) -> None:
                async with asyncio.timeout(timeout):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "delta" and frame["values"].get("co2") == co2:
                            return

            begun = time.monotonic()
            await asyncio.to_thread(http_ingest, 612.0)
            await delta_with(612.0, 10)
            timings["http"] = time.monotonic() - begun

            # The node's broker account comes from the worker (the outbox, after the API's
            # commit); until it is there the broker refuses the credential.
            begun = time.monotonic()
            device = await asyncio.to_thread(connect_device, platform, node["id"], credential)
            timings["broker account"] = time.monotonic() - begun
            try:
                # Both ingesters on the shared subscription before the values (a loaded
                # machine starts one later), so that each gets its share.
                await asyncio.to_thread(wait_for_subscriptions, platform)
                # Repeat until a value arrives (the subscription may still be on its way),
                # then each of several values must arrive.
                begun = time.monotonic()
                value = 700.0
                while True:
                    publish(device, value)
                    try:
                        await delta_with(value, 1)
                        break
                    except TimeoutError:
                        assert time.monotonic() - begun < 30, "no MQTT value within 30 s"
                        value += 1
                timings["first mqtt"] = time.monotonic() - begun
                begun = time.monotonic()
                for value in range(800, 808):
                    publish(device, float(value))
                    await delta_with(float(value), 5)
                timings["8 mqtt"] = time.monotonic() - begun
            finally:
                device.disconnect()
                device.loop_stop()
        return timings

    timings = asyncio.run(scenario())
    print("smoke timings (s):", {k: round(v, 2) for k, v in timings.items()})
    stored = session.get(
        f"{platform.base}/api/v1/nodes/{node['id']}/",
        timeout=30,
        headers={"Accept": "application/json"},
    )
    assert stored.status_code == 200 and stored.json()["last_seen"], stored.text
    # /metrics (the processes' shared SENSORGRID_METRICS_DIR) counts what the two ingesters
    # stored and the web workers' HTTP ingest.
    families = scrape(platform)
    stored_messages = sum(
        sample.value
        for sample in families["sensorgrid_ingest_messages"].samples
        if sample.name.endswith("_total") and sample.labels["outcome"] == "stored"
    )
    assert stored_messages >= 9
    assert any(
        sample.labels.get("method") == "POST"
        and "ingest" in sample.labels.get("route", "")
        and sample.labels.get("status", "").startswith("2")
        for sample in families["sensorgrid_http_requests"].samples
    ), families["sensorgrid_http_requests"].samples


def connect_device(platform: Platform, node_id: int, credential: str) -> mqtt.Client:
    """The device as docs/devices.md has it: its own client id, ``node-<pk>`` and the
    credential, MQTT 5. Retried while the broker does not know the account yet."""
    deadline = time.monotonic() + 30
    while True:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="smoke1", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(f"node-{node_id}", credential)
        try:
            client.connect("127.0.0.1", platform.broker.port)
        except OSError:
            pass
        else:
            client.loop_start()
            connected = time.monotonic() + 5
            while time.monotonic() < connected and not client.is_connected():
                time.sleep(0.05)
            if client.is_connected():
                return client
            client.loop_stop()
            client.disconnect()
        assert time.monotonic() < deadline, "the broker refused the node's credential for 30 s"
        time.sleep(0.5)


def wait_for_subscriptions(platform: Platform) -> None:
    deadline = time.monotonic() + 30
    while not all(
        "$share/sensorgrid/" in platform.server.log(label) for label in ("ingest-1", "ingest-2")
    ):
        assert time.monotonic() < deadline, [
            platform.server.log(label)[-1000:] for label in ("ingest-1", "ingest-2")
        ]
        time.sleep(0.2)


def publish(device: mqtt.Client, co2: float) -> None:
    body = {"ts": datetime.now(UTC).isoformat(), "values": {"co2": co2}}
    info = device.publish("sensorgrid/smoke1/up", json.dumps(body), qos=1)
    info.wait_for_publish(timeout=5)
    assert info.is_published()


def test_readyz_reports_every_part_up_through_the_proxy(platform):
    deadline = time.monotonic() + 30
    while True:
        answer = requests.get(f"{platform.base}/readyz", verify=str(platform.ca), timeout=30)
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert answer.status_code == 200, answer.text
    checks = answer.json()["checks"]
    assert set(checks) == {"database", "cache", "broker", "worker"}
    assert {name: check["status"] for name, check in checks.items()} == dict.fromkeys(checks, "ok")
    assert all(check["required"] for check in checks.values())


def scrape(platform: Platform) -> dict[str, Metric]:
    answer = requests.get(f"{platform.base}/metrics", verify=str(platform.ca), timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def test_metrics_are_scraped_through_the_proxy(platform):
    names = set(scrape(platform))
    for family in (
        "sensorgrid_http_requests",
        "sensorgrid_ingest_messages",
        "sensorgrid_ingest_broker_connected",
        "sensorgrid_broker_changes",
        "sensorgrid_worker_heartbeat_age_seconds",
    ):
        assert family in names, sorted(names)
    # From any other address nginx refuses it (the config allows Prometheus's only).
    port = int(platform.base.rsplit(":", 1)[1])
    elsewhere = http.client.HTTPSConnection(
        HOST, port, context=platform.ssl_context(), source_address=("127.0.0.2", 0), timeout=30
    )
    try:
        for path, status in (("/metrics", 403), ("/healthz", 200)):
            elsewhere.request("GET", path)
            answer = elsewhere.getresponse()
            answer.read()
            assert answer.status == status, path
    finally:
        elsewhere.close()


def test_every_process_stops_cleanly(platform):
    """Last: SIGTERM to each, as systemd does; the ingesters say what they stored (the
    shared subscription gave both a share) and nothing logged a traceback."""
    for label, process in platform.processes.items():
        if label != "nginx":
            stop(process)
            assert process.returncode in (0, -15), (label, platform_log(platform, label))
    for label in ("ingest-1", "ingest-2"):
        text = platform.server.log(label)
        assert "$share/sensorgrid/" in text, text[-2000:]
        stored = re.search(r"stopped after storing (\d+) messages", text)
        assert stored and int(stored[1]) >= 1, text[-2000:]
    for label in ("serve", "ingest-1", "ingest-2", "worker"):
        assert "Traceback" not in platform.server.log(label), platform_log(platform, label)
