import os
import secrets
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sensorgrid.alerts import demo as alerts_demo
from sensorgrid.boards import demo as boards_demo
from sensorgrid.geo import demo as geo_demo
from sensorgrid.inventory import demo
from sensorgrid.observability import logs, multiprocess
from sensorgrid.runtime import broker
from sensorgrid.runtime.supervisor import Supervisor

#: (name, profile, organization, seed, device ids) of the simulators the demo starts:
#: their devices are the demo's installed nodes (sensorgrid.inventory.demo.NODES).
SIMULATORS = (
    # CO2 monitors following lessons and breaks
    ("classrooms", "room", "riverside-school", 1, ("demo-co2-001", "demo-co2-002")),
    # an Elsys ERS CO2 (LoRaWAN) through a simulated TTN application (TTS v3 uplinks)
    ("hall", "elsys", "riverside-school", 1, ("70b3d57ed0000001",)),
    ("outdoor", "outdoor", "riverside-school", 1, ("demo-weather-001", "demo-weather-002")),
    ("offices", "room", "harbour-offices", 2, ("demo-co2-101", "demo-co2-102")),
    ("kpi", "kpi", "harbour-offices", 1, ("demo-kpi-101",)),
    ("buses", "vehicle", "harbour-offices", 1, tuple(demo.BUSES)),
    # pictures with injected anomalies; its first model learns normal ones only
    ("cameras", "camera", "harbour-offices", 1, ("demo-cam-101",)),
)


#: the longest the banner waits for the worker and the simulators to be up
SETTLE_SECONDS = 60


class Command(BaseCommand):
    help = (
        "Run the whole platform on embedded defaults: SQLite, demo data, an embedded MQTT "
        "broker, the ingest service, the web server, the worker and simulated devices of "
        "every profile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--password", default=demo.DEFAULT_PASSWORD)
        parser.add_argument(
            "--broker",
            default="",
            help="Use this MQTT broker (mqtt://…) instead of the embedded one.",
        )
        parser.add_argument(
            "--postgres",
            default="",
            help="Use this PostgreSQL database (postgres://…), not SQLite.",
        )
        parser.add_argument(
            "--redis",
            default="",
            help="Use this Redis (redis://…) for the worker queue instead of a SQLite file.",
        )
        parser.add_argument(
            "--rate", type=float, default=0.2, help="Messages per second per simulated device."
        )
        parser.add_argument("--no-simulators", action="store_true")
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="Also log every request, every worker task and the frameworks' INFO lines.",
        )

    def handle(self, *args, host, port, password, rate, **options):
        wanted = {
            "SENSORGRID_DATABASE_URL": options["postgres"],
            "SENSORGRID_REDIS_URL": options["redis"],
        }
        if any(value and os.environ.get(name) != value for name, value in wanted.items()):
            # Settings are read once per process: start again with PostgreSQL and
            # Redis set, for this process and every child.
            os.environ.update({name: value for name, value in wanted.items() if value})
            os.execv(sys.executable, [sys.executable, "-m", "sensorgrid", *sys.argv[1:]])
        broker_url = options["broker"]
        if not broker_url and not broker.available():
            # Say so before migrating and loading demo data, not when the child fails.
            raise CommandError(
                f"{broker.missing()}; or run the demo with --broker mqtt://… of your own"
            )
        call_command("migrate", interactive=False, verbosity=0)
        summary = demo.load(password)
        boards_demo.example_boards()  # an example dashboard per organization
        alerts_demo.example_rule()
        layer = geo_demo.sample_layer()  # the map's open-data layer, from a bundled file
        if not broker.port_free(host, port):
            raise CommandError(f"{host}:{port} is taken; choose another --port")
        environment = self._observability()
        if not options["verbose"]:
            environment["SENSORGRID_LOG_QUIET"] = "true"
        supervisor = Supervisor(self.stdout, environment=environment)
        try:
            broker_url = self._start(supervisor, host, port, rate, broker_url, options)
            self._banner(host, port, password, summary, broker_url, layer)
        except KeyboardInterrupt:
            # Ctrl-C while starting: the children have process groups of their own.
            self.stdout.write("stopping (Ctrl-C)")
            supervisor.stop()
            raise SystemExit(0) from None
        raise SystemExit(supervisor.wait())

    def _start(self, supervisor: Supervisor, host, port, rate, broker_url, options) -> str:
        """Start the parts, then wait until they have settled (so the banner comes last)."""
        environment: dict[str, str] = {}
        simulator_login: dict[str, str] = {}
        if not broker_url:
            broker_port = 1883 if broker.port_free("127.0.0.1", 1883) else broker.free_port()
            broker_url = f"mqtt://127.0.0.1:{broker_port}"
            accounts = settings.VAR_DIR / "broker"
            environment, simulator_login = self._service_accounts(accounts)
            started = supervisor.start(
                "broker", "broker", "--port", str(broker_port), "--accounts", str(accounts)
            )
            if not started.wait_for("embedded MQTT broker on", timeout=30):
                supervisor.stop()
                raise CommandError("the embedded MQTT broker did not start")
            environment["SENSORGRID_MQTT_PROTOCOL"] = "3.1.1"  # amqtt speaks 3.1.1 only
        environment["SENSORGRID_MQTT_URL"] = broker_url
        # Unguessable: amqtt looks a client id up (and may drop its session) before it
        # checks the password (docs/devices.md, "The demo's broker").
        environment["SENSORGRID_MQTT_CLIENT_ID"] = f"sensorgrid-demo-ingest-{secrets.token_hex(6)}"
        web = ["serve", "--host", host, "--port", str(port)]
        # SensorThings MQTT subscribers (docs/sensorthings.md) on a port of the web process.
        sta_port = 1884 if broker.port_free(host, 1884) else broker.free_port(host)
        self.sta_mqtt_url = f"mqtt://{host}:{sta_port}"
        sta = {
            "SENSORGRID_STA_MQTT_PORT": str(sta_port),
            "SENSORGRID_STA_MQTT_HOST": host,
            "SENSORGRID_BASE_URL": settings.SENSORGRID_BASE_URL or f"http://{host}:{port}",
        }
        if settings.REDIS_URL:
            # Production shape: ingest in its own process; live values travel via Redis.
            ingest = supervisor.start("ingest", "ingest", environment=environment)
            supervisor.start("web", *web, environment=sta)
        else:
            # The in-memory channel layer reaches one process only: ingest runs inside
            # the web process, so committed samples reach the browsers live.
            ingest = supervisor.start("web", *web, "--ingest", environment={**environment, **sta})
        if not ingest.wait_for("subscribing to", timeout=60):
            supervisor.stop()
            raise CommandError(f"the ingest service could not subscribe at {broker_url}")
        worker = supervisor.start("worker", "worker")
        settling = [(worker, "threads, queue")]
        if not options["no_simulators"]:
            for name, profile, organization, seed, device_ids in SIMULATORS:
                simulator = supervisor.start(
                    name,
                    "simulate",
                    "--profile",
                    profile,
                    "--device-ids",
                    ",".join(device_ids),
                    "--rate",
                    str(rate),
                    "--seed",
                    str(seed),
                    "--transport",
                    "mqtt",
                    "--broker",
                    broker_url,
                    "--register",
                    "--organization",
                    organization,
                    "--queue",
                    str(settings.VAR_DIR / f"simulator-{name}.sqlite3"),
                    # the camera's first model: a normal day, not what it sends
                    *(["--outlier-model"] if profile == "camera" else []),
                    environment=simulator_login,
                )
                settling.append((simulator, "connected to"))
        deadline = time.monotonic() + SETTLE_SECONDS
        for child, line in settling:
            child.wait_for(line, timeout=max(0.0, deadline - time.monotonic()))
        return broker_url

    def _service_accounts(self, directory: Path) -> tuple[dict[str, str], dict[str, str]]:
        """New passwords for the embedded broker's service accounts, in 0600 files; the
        environment of the ingest service and of the simulators that logs them in.

        Files, not arguments: a command line is visible to every user of the machine.
        """
        from sensorgrid.brokerauth.embedded import SERVICE_USERNAMES, create_service_accounts

        files = create_service_accounts(directory)
        ingest, simulator = (
            {
                "SENSORGRID_MQTT_USERNAME": SERVICE_USERNAMES[account],
                "SENSORGRID_MQTT_PASSWORD": "",  # the file, not a password of the environment
                "SENSORGRID_MQTT_PASSWORD_FILE": str(files[account]),
            }
            for account in ("ingest", "simulator")
        )
        return ingest, simulator

    def _observability(self) -> dict[str, str]:
        """Children share one metrics dir, wiped now, so /metrics shows them all.

        The log format is decided here, where the terminal is: the children write
        into a pipe, where ``auto`` would mean JSON.
        """
        directory = multiprocess.prepare(
            settings.SENSORGRID_METRICS_DIR or settings.VAR_DIR / "metrics"
        )
        return {
            "SENSORGRID_METRICS_DIR": str(directory),
            "SENSORGRID_LOG_FORMAT": logs.resolve_format(
                settings.SENSORGRID_LOG_FORMAT, sys.stdout
            ),
            # Mail (invitations) goes to files under var/mail/ and the web process logs
            # each invitation link, unless the user chose a backend (docs/dashboard.md).
            "SENSORGRID_EMAIL_BACKEND": os.environ.get("SENSORGRID_EMAIL_BACKEND", "file"),
        }

    @staticmethod
    def _layer_line(run) -> str:
        if run is None:
            return "not loaded"
        if run.error:  # e.g. a core install without the geo extra: the demo goes on
            return f"street trees not loaded ({run.error})"
        count = run.created + run.updated + run.unchanged
        return f"{count} street trees (sample data shipped with SensorGrid, no internet)"

    def _banner(self, host, port, password, summary, broker_url, layer=None) -> None:
        database = settings.DATABASES["default"]
        url = f"http://{host}:{port}"
        self.stdout.write(
            "\n".join(
                [
                    self.style.SUCCESS(f"SensorGrid demo on {url}/"),
                    f"  public     {url}/public/   (Classroom 1, live, no login)",
                    f"  API        {url}/api/v1/   (docs: {url}/api/docs/)",
                    f"  metrics    {url}/metrics",
                    f"  admin      {url}/admin/",
                    f"  logins     {', '.join(summary.users)} / password {password!r}",
                    f"  operator   {summary.operator} / same password (superuser: every "
                    "organization, all dead letters, the platform status page)",
                    f"  database   {database['ENGINE'].rsplit('.', 1)[-1]}: {database['NAME']}",
                    f"  MQTT       {broker_url}  (publish to sensorgrid/<device>/up as "
                    "node-<id> with the node's credential: docs/devices.md)",
                    f"  STA MQTT   {getattr(self, 'sta_mqtt_url', 'off')}  (SensorThings: "
                    "subscribe to v1.1/Observations as a user, an API token as password: "
                    "docs/sensorthings.md)",
                    f"  map layer  {self._layer_line(layer)}",
                    f"  outliers   {url}/outliers/   (charlie: the roof camera's pictures, "
                    "scored live)",
                    f"  data       {settings.VAR_DIR}",
                    "  Ctrl-C stops everything; the data stays for the next run.",
                ]
            )
        )
