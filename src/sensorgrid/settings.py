"""SensorGrid settings: one module, read from the environment (docs/configuration.md)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from sensorgrid import __version__
from sensorgrid.env import ConfigurationError, env, envbool, envfloat, envint, envlist
from sensorgrid.observability import logs

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env("SENSORGRID_VAR_DIR", str(Path.cwd() / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("SENSORGRID_DEBUG", False)
# The fallback key only exists so that a fresh checkout runs; `check --deploy` flags it.
SECRET_KEY = env("SENSORGRID_SECRET_KEY", "django-insecure-sensorgrid-local-only-change-me")
ALLOWED_HOSTS = envlist("SENSORGRID_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("SENSORGRID_CSRF_TRUSTED_ORIGINS", [])

# Per ingest credential, in DRF's rate format (count/sec|min|hour|day).
SENSORGRID_INGEST_RATE = env("SENSORGRID_INGEST_RATE", "600/min")
SENSORGRID_INGEST_CREDENTIAL_TTL = envfloat("SENSORGRID_INGEST_CREDENTIAL_TTL", 10.0)
# InfluxDB line protocol (/api/v2/write, docs/devices.md): the tags that name the node.
SENSORGRID_INFLUX_DEVICE_TAGS = envlist(
    "SENSORGRID_INFLUX_DEVICE_TAGS", ["device", "device_id", "node", "host"]
)
# Dead letters (issue 16): days an unresolved or resolved letter is kept after it was last
# refused, pruned by the worker and `sensorgrid prune`; 0 keeps them forever.
SENSORGRID_DEAD_LETTER_RETENTION_DAYS = envint("SENSORGRID_DEAD_LETTER_RETENTION_DAYS", 30)
# Most points one time-series answer may hold; beyond it the client must narrow the query.
SENSORGRID_TIMESERIES_MAX_POINTS = envint("SENSORGRID_TIMESERIES_MAX_POINTS", 10_000)
# Map tile URL template of the dashboard ({z}/{x}/{y}; {s} subdomains): by default
# OpenStreetMap's standard tiles; "off": no tile server, the map draws the offline
# basemap shipped with its assets (also when tiles fail). docs/dashboard.md, "Basemap".
_map_tiles = env("SENSORGRID_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
SENSORGRID_MAP_TILES = "" if _map_tiles.strip().lower() in ("off", "none") else _map_tiles
# The tiles' attribution, shown on the map (text; the OpenStreetMap default links to
# openstreetmap.org/copyright, as its licence asks).
SENSORGRID_MAP_ATTRIBUTION = env("SENSORGRID_MAP_ATTRIBUTION", "© OpenStreetMap contributors")
SENSORGRID_MAP_ATTRIBUTION_URL = env(
    "SENSORGRID_MAP_ATTRIBUTION_URL", "https://www.openstreetmap.org/copyright"
)
# Fleet view (docs/dashboard.md): a vehicle is online while its newest position is at
# most this many seconds old (the vehicle proof of concept's 10 s rule).
SENSORGRID_FLEET_ONLINE_SECONDS = envfloat("SENSORGRID_FLEET_ONLINE_SECONDS", 10.0)

# Redis: the worker queue, the channel layer and the latest-value cache. Empty = embedded
# (SQLite queue file, in-memory channel layer and cache: one web process).
REDIS_URL = env("SENSORGRID_REDIS_URL", "")
# channels-redis' Pub/Sub layer: a group message is one PUBLISH, delivered once per web
# process and fanned out there. The list-based RedisChannelLayer costs several round trips
# per consumer and message and silently drops beyond 100 queued per process: bench/live.py
# measured p99 0.7 s and lost deltas with it, 53 ms and none with Pub/Sub.
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "sensorgrid:live"},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sensorgrid",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Live values over /ws/live/ (docs/dashboard.md): per client and node at most this many
# deltas a second (values arriving meanwhile are merged, newest wins); a client with more
# than MAX_PENDING frames unsent is too slow and closed with code 4001.
SENSORGRID_LIVE_MAX_RATE = envfloat("SENSORGRID_LIVE_MAX_RATE", 4.0)
SENSORGRID_LIVE_MAX_PENDING = envint("SENSORGRID_LIVE_MAX_PENDING", 1000)
# Live permission changes (security, issue 16): besides the signals of membership, user
# and logout changes, each open connection re-checks what it may see this often
# (seconds; 0: never), for changes no signal announces (expired sessions, bulk updates).
SENSORGRID_LIVE_RECHECK_SECONDS = envfloat("SENSORGRID_LIVE_RECHECK_SECONDS", 30.0)

# LoRaWAN gateways (docs/lorawan.md, "Radio view"): online if one of the organization's
# nodes was heard through it within this many seconds.
SENSORGRID_GATEWAY_ONLINE_SECONDS = envint("SENSORGRID_GATEWAY_ONLINE_SECONDS", 3600)

# Open-data pipelines (docs/pipelines.md).
SENSORGRID_GEO_FETCH_TIMEOUT = envint("SENSORGRID_GEO_FETCH_TIMEOUT", 60)
SENSORGRID_GEO_FETCH_MAX_BYTES = envint("SENSORGRID_GEO_FETCH_MAX_BYTES", 50 * 1024 * 1024)
SENSORGRID_GEO_RUN_TIMEOUT = envint("SENSORGRID_GEO_RUN_TIMEOUT", 6 * 3600)
# Overpass and Wikipedia ask every client to say who it is.
SENSORGRID_GEO_USER_AGENT = env(
    "SENSORGRID_GEO_USER_AGENT",
    f"SensorGrid/{__version__} (open-data pipelines; +https://github.com/sensorgrid)",
)
# Default and largest `limit` of the geo API (docs/pipelines.md).
SENSORGRID_GEO_PAGE_SIZE = envint("SENSORGRID_GEO_PAGE_SIZE", 1000)
SENSORGRID_GEO_MAX_LIMIT = envint("SENSORGRID_GEO_MAX_LIMIT", 10_000)
# Links in e-mails (pipeline failures, alerts), e.g. https://sensors.example.org
SENSORGRID_BASE_URL = env("SENSORGRID_BASE_URL", "")

# Alerts and the delivery outbox (docs/alerts.md).
SENSORGRID_ALERTS_RETRY_BASE = envint("SENSORGRID_ALERTS_RETRY_BASE", 30)
SENSORGRID_ALERTS_RETRY_MAX = envint("SENSORGRID_ALERTS_RETRY_MAX", 3600)
SENSORGRID_ALERTS_MAX_ATTEMPTS = envint("SENSORGRID_ALERTS_MAX_ATTEMPTS", 10)
SENSORGRID_ALERTS_HTTP_TIMEOUT = envint("SENSORGRID_ALERTS_HTTP_TIMEOUT", 10)
SENSORGRID_ALERTS_MQTT_TIMEOUT = envfloat("SENSORGRID_ALERTS_MQTT_TIMEOUT", 10.0)
# Seconds a worker's claim on a delivery lasts; keep it above the timeouts.
SENSORGRID_ALERTS_DELIVERY_LEASE = envfloat("SENSORGRID_ALERTS_DELIVERY_LEASE", 120.0)
# Enqueue a send task as soon as a delivery commits (the periodic task catches the rest).
SENSORGRID_ALERTS_SEND_AT_ONCE = envbool("SENSORGRID_ALERTS_SEND_AT_ONCE", True)
SENSORGRID_ALERTS_RULE_CACHE_TTL = envfloat("SENSORGRID_ALERTS_RULE_CACHE_TTL", 30.0)
# Sender of alert e-mail; empty: DEFAULT_FROM_EMAIL (SENSORGRID_EMAIL_FROM).
SENSORGRID_ALERTS_EMAIL_FROM = env("SENSORGRID_ALERTS_EMAIL_FROM", "")

# Outbound guard (SSRF): non-public addresses webhooks, MQTT channels, forwarders and
# pipelines may still reach: CIDRs, addresses, host[:port] (docs/security.md).
SENSORGRID_OUTBOUND_ALLOW = envlist("SENSORGRID_OUTBOUND_ALLOW", [])

# Outgoing e-mail (alert notifications, pipeline failures): Django's SMTP backend.
EMAIL_HOST = env("SENSORGRID_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("SENSORGRID_EMAIL_PORT", 25)
EMAIL_HOST_USER = env("SENSORGRID_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("SENSORGRID_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = envbool("SENSORGRID_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("SENSORGRID_EMAIL_FROM", "sensorgrid@localhost")
# How mail leaves: smtp (production, the settings above), file (one file per message
# in SENSORGRID_EMAIL_FILE_PATH; the demo), console. Tests use locmem (pytest-django).
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
SENSORGRID_EMAIL_BACKEND = env("SENSORGRID_EMAIL_BACKEND", "smtp")
if SENSORGRID_EMAIL_BACKEND not in _EMAIL_BACKENDS:
    raise ConfigurationError(
        f"SENSORGRID_EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)}, "
        f"not {SENSORGRID_EMAIL_BACKEND!r}"
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[SENSORGRID_EMAIL_BACKEND]
EMAIL_FILE_PATH = env("SENSORGRID_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# Hours an invitation link to an organization stays valid (it works once).
SENSORGRID_INVITATION_TTL_HOURS = envint("SENSORGRID_INVITATION_TTL_HOURS", 72)

# Device health (docs/operations.md): MISSING after this many expected intervals
# without a message, DEAD after that many.
SENSORGRID_FIDELITY_MISSING_FACTOR = envfloat("SENSORGRID_FIDELITY_MISSING_FACTOR", 2.0)
SENSORGRID_FIDELITY_DEAD_FACTOR = envfloat("SENSORGRID_FIDELITY_DEAD_FACTOR", 24.0)

# The worker (`sensorgrid worker`, Huey): SQLite queue file by default, Redis when set.
SENSORGRID_WORKER_QUEUE = env("SENSORGRID_WORKER_QUEUE", "sensorgrid")
HUEY: dict[str, Any] = {
    "name": SENSORGRID_WORKER_QUEUE,
    "immediate": False,
    "consumer": {
        "workers": envint("SENSORGRID_WORKER_THREADS", 2),
        "worker_type": "thread",
        "periodic": True,
    },
    **(
        {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
        if REDIS_URL
        else {
            "huey_class": "huey.SqliteHuey",
            "filename": env("SENSORGRID_WORKER_QUEUE_FILE", str(VAR_DIR / "worker-queue.sqlite3")),
        }
    ),
}
# /readyz reports the worker down when its newest heartbeat is older than this.
SENSORGRID_WORKER_HEARTBEAT_MAX_AGE = envint("SENSORGRID_WORKER_HEARTBEAT_MAX_AGE", 180)
# Parts /readyz must find up to answer 200 (the database always is); others are reported.
SENSORGRID_READYZ_REQUIRED = envlist("SENSORGRID_READYZ_REQUIRED", ["cache"])

# The MQTT ingest service (`sensorgrid ingest`, docs/ingest.md).
SENSORGRID_MQTT_URL = env("SENSORGRID_MQTT_URL", "mqtt://127.0.0.1:1883")
# The broker account when the URL names none (the password also from ..._PASSWORD_FILE).
SENSORGRID_MQTT_USERNAME = env("SENSORGRID_MQTT_USERNAME", "")
SENSORGRID_MQTT_PASSWORD = env("SENSORGRID_MQTT_PASSWORD", "")
SENSORGRID_MQTT_CA_FILE = env("SENSORGRID_MQTT_CA_FILE", "")
SENSORGRID_MQTT_CERT_FILE = env("SENSORGRID_MQTT_CERT_FILE", "")
SENSORGRID_MQTT_KEY_FILE = env("SENSORGRID_MQTT_KEY_FILE", "")
SENSORGRID_MQTT_CLIENT_ID = env("SENSORGRID_MQTT_CLIENT_ID", "")
# "5" (session expiry + receive maximum) or "3.1.1" (clean_session=False).
SENSORGRID_MQTT_PROTOCOL = env("SENSORGRID_MQTT_PROTOCOL", "5")
SENSORGRID_MQTT_SESSION_EXPIRY = envint("SENSORGRID_MQTT_SESSION_EXPIRY", 7 * 86400)
SENSORGRID_MQTT_SHARED_GROUP = env("SENSORGRID_MQTT_SHARED_GROUP", "")
# Messages held unacknowledged in one process at most (MQTT 5 receive maximum).
SENSORGRID_MQTT_INFLIGHT = envint("SENSORGRID_MQTT_INFLIGHT", 10_000)
# 5,000: a backlog drains in fewer, larger transactions; each batch costs a rollup, latest
# value and last_seen write per node and quantity it holds (docs/performance.md, issue 24).
SENSORGRID_MQTT_BATCH_SIZE = envint("SENSORGRID_MQTT_BATCH_SIZE", 5_000)
SENSORGRID_MQTT_BATCH_MS = envint("SENSORGRID_MQTT_BATCH_MS", 200)
# "pattern=decoder" pairs replacing the built-in routes; admin rows come first anyway.
SENSORGRID_MQTT_ROUTES = envlist("SENSORGRID_MQTT_ROUTES", [])
SENSORGRID_INGEST_METRICS_PORT = envint("SENSORGRID_INGEST_METRICS_PORT", 0)
SENSORGRID_INGEST_METRICS_ADDRESS = env("SENSORGRID_INGEST_METRICS_ADDRESS", "127.0.0.1")
# The admin account of Mosquitto's dynamic security plugin (sensorgrid.brokerauth.dynsec,
# docs/deployment.md "Broker authentication"); the broker: SENSORGRID_MQTT_ADMIN_URL, else
# SENSORGRID_MQTT_URL with the admin as its user.
SENSORGRID_MQTT_ADMIN_URL = env("SENSORGRID_MQTT_ADMIN_URL", "")
SENSORGRID_MQTT_ADMIN_USERNAME = env("SENSORGRID_MQTT_ADMIN_USERNAME", "")
SENSORGRID_MQTT_ADMIN_PASSWORD = env("SENSORGRID_MQTT_ADMIN_PASSWORD", "")
# Seconds `sensorgrid ingest` waits for its first broker connection before exiting 1.
SENSORGRID_MQTT_CONNECT_TIMEOUT = envfloat("SENSORGRID_MQTT_CONNECT_TIMEOUT", 60.0)

# Broker authentication (issue 20, docs/deployment.md): "off" (the embedded or a
# hand-kept broker; nothing is queued) or "dynsec" (Mosquitto's dynamic security plugin,
# kept in step with the inventory through the outbox of sensorgrid.brokerauth).
SENSORGRID_BROKER_AUTH = env("SENSORGRID_BROKER_AUTH", "off").strip().lower()
if SENSORGRID_BROKER_AUTH not in ("off", "dynsec"):
    raise ConfigurationError(
        f"SENSORGRID_BROKER_AUTH must be off or dynsec, not {SENSORGRID_BROKER_AUTH!r}"
    )
# Key of the node passwords waiting in the outbox (Fernet); empty: derived from SECRET_KEY.
SENSORGRID_BROKER_OUTBOX_KEY = env("SENSORGRID_BROKER_OUTBOX_KEY", "")
# Retry of a change the broker could not take: base × 2^(attempts − 1) seconds, capped.
SENSORGRID_BROKER_RETRY_BASE = envfloat("SENSORGRID_BROKER_RETRY_BASE", 5.0)
SENSORGRID_BROKER_RETRY_MAX = envfloat("SENSORGRID_BROKER_RETRY_MAX", 300.0)
# Seconds a worker's claim on a change lasts (a worker killed meanwhile: retried after it).
SENSORGRID_BROKER_LEASE = envfloat("SENSORGRID_BROKER_LEASE", 60.0)
# Seconds to wait for the broker's answer to one request of the outbox or the reconcile.
SENSORGRID_BROKER_TIMEOUT = envfloat("SENSORGRID_BROKER_TIMEOUT", 10.0)
# Ask the worker to apply a change as soon as it commits (the periodic task catches the rest).
SENSORGRID_BROKER_APPLY_AT_ONCE = envbool("SENSORGRID_BROKER_APPLY_AT_ONCE", True)
# Minutes between the worker's reconciliations of the whole inventory (0: never).
SENSORGRID_BROKER_RECONCILE_MINUTES = envint("SENSORGRID_BROKER_RECONCILE_MINUTES", 15)
# The broker address devices use, as the dashboard's Connect panel shows it
# (mqtt://host:1883 or mqtts://host:8883); empty: SENSORGRID_MQTT_URL without its user.
SENSORGRID_PUBLIC_MQTT_URL = env("SENSORGRID_PUBLIC_MQTT_URL", "")

# Slow clients of `sensorgrid serve` (sensorgrid.runtime.limits, docs/deployment.md):
# headers complete within, body pauses at most (seconds), open connections per worker.
SENSORGRID_SERVE_HEADER_TIMEOUT = envfloat("SENSORGRID_SERVE_HEADER_TIMEOUT", 10.0)
SENSORGRID_SERVE_BODY_TIMEOUT = envfloat("SENSORGRID_SERVE_BODY_TIMEOUT", 30.0)
SENSORGRID_SERVE_MAX_CONNECTIONS = envint("SENSORGRID_SERVE_MAX_CONNECTIONS", 1000)
# `sensorgrid serve` also runs the MQTT ingest service in its process (embedded setups);
# `serve --ingest` sets it for its own process before the ASGI app starts.
SENSORGRID_SERVE_INGEST = envbool("SENSORGRID_SERVE_INGEST", False)
# The SensorThings MQTT endpoint of `sensorgrid serve` (docs/sensorthings.md): 0 = off.
SENSORGRID_STA_MQTT_PORT = envint("SENSORGRID_STA_MQTT_PORT", 0)
SENSORGRID_STA_MQTT_HOST = env("SENSORGRID_STA_MQTT_HOST", "127.0.0.1")
# The endpoint as clients reach it (comma-separated; default mqtt://<web host>:<port>).
SENSORGRID_STA_MQTT_URL = env("SENSORGRID_STA_MQTT_URL", "")
# Observability (docs/operations.md). Shared directory of the multiprocess metrics
# of this host's processes; empty: each process keeps its metrics in memory.
SENSORGRID_METRICS_DIR = env("SENSORGRID_METRICS_DIR") or env("PROMETHEUS_MULTIPROC_DIR")
# auto (text in a terminal, JSON lines otherwise), text or json.
SENSORGRID_LOG_FORMAT = env("SENSORGRID_LOG_FORMAT", "auto")

INSTALLED_APPS = [
    "channels",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",  # login throttling (sensorgrid.accounts.lockout)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sensorgrid.tenancy",
    "sensorgrid.accounts",
    "sensorgrid.inventory",
    "sensorgrid.telemetry",
    "sensorgrid.ingest",
    "sensorgrid.fidelity",
    "sensorgrid.worker",
    "sensorgrid.health",
    "sensorgrid.live",
    "sensorgrid.dashboard",
    "sensorgrid.boards",
    "sensorgrid.geo",
    "sensorgrid.alerts",
    "sensorgrid.brokerauth",
    "sensorgrid.dbroles",
    "sensorgrid.sensorthings",
    "sensorgrid.images",
    "sensorgrid.outliers",
    "sensorgrid.runtime",
    "sensorgrid.simulator",
]

MIDDLEWARE = [
    # First: it times all the others and stamps every response with X-Request-ID.
    "sensorgrid.observability.middleware.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "sensorgrid.dashboard.csp.LiveCSPMiddleware",
    # Input hygiene: a NUL in the path or a query parameter is a 400 before any view,
    # filter or admin page can hand it to the database (sensorgrid.api.hygiene).
    "sensorgrid.api.hygiene.UnstorableTextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused by django-axes into the 429 "too many failed logins".
    "axes.middleware.AxesMiddleware",
]

# After-commit consumers (sensorgrid.events, docs/architecture.md "An after-commit
# consumer"): per event class, who follows it, in the order they run, each with its
# phase. "before-ack" runs before the MQTT PUBACK / HTTP response and runs again if the
# process dies before the ack; "after-ack" runs after the MQTT ack (at commit for HTTP
# ingest, the worker and the API) and costs the sender nothing, but a process killed
# between ack and consumer loses that one run. In-transaction entries come first
# (sensorgrid.events), then the before-ack ones.
AFTER_COMMIT_CONSUMERS: dict[str, list[tuple[str, str]]] = {
    "sensorgrid.ingest.events.Committed": [
        # One upsert for /status/, in the batch's transaction where it is one of its own
        # (HTTP: no second commit and WAL flush per request), else after the ack; a lost
        # after-ack run misses one batch's count.
        ("sensorgrid.health.ingest_rate.after_ingest", "in-transaction"),
        # Quiet nodes that deliver again become ALIVE (a query only when one was quiet).
        # After-ack: a lost run is healed by the next sweep. First: "health before
        # values" on the WebSocket needs the status offered before the values.
        ("sensorgrid.fidelity.revive.after_ingest", "after-ack"),
        # In memory, never blocks; WebSocket pushes are best effort anyway.
        ("sensorgrid.live.publish.after_ingest", "after-ack"),
        # Row locks and queries when a rule watches the batch's nodes: the costliest, so
        # last and after the ack. A lost run misses stepping the rules for one batch; the
        # series' next value is judged as usual.
        ("sensorgrid.alerts.evaluate.after_ingest", "after-ack"),
        # Ids only, to a thread; the SensorThings MQTT subscribers (sensorthings/mqtt).
        ("sensorgrid.sensorthings.mqtt.feed.after_ingest", "after-ack"),
    ],
    "sensorgrid.fidelity.events.StatusChanged": [
        ("sensorgrid.live.publish.status_changed", "after-ack"),
        # node-health rules (row locks, an outbox row per channel)
        ("sensorgrid.alerts.evaluate.after_status_change", "after-ack"),
    ],
    "sensorgrid.alerts.events.AlertChanged": [
        ("sensorgrid.live.publish.alert_changed", "after-ack"),
    ],
    # A picture stored (images app); its original and thumbnail are in the store.
    "sensorgrid.images.events.ImageStored": [
        # One query; queues the picture for the worker's outlier scoring if a model
        # watches its node and name (a lost run leaves that picture unscored).
        ("sensorgrid.outliers.consumers.after_image_stored", "after-ack"),
    ],
    "sensorgrid.outliers.events.OutlierScored": [
        ("sensorgrid.live.publish.outlier_scored", "after-ack"),
    ],
}

ROOT_URLCONF = "sensorgrid.urls"
WSGI_APPLICATION = "sensorgrid.wsgi.application"
ASGI_APPLICATION = "sensorgrid.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Before the apps' own: DRF's browsable API page without inline script or style
        # (templates/rest_framework/api.html; XSS defence in depth, sensorgrid.dashboard.csp).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


_POOL_SIZE = envint("SENSORGRID_DB_POOL_SIZE", 8)


def _database(url: str) -> dj_database_url.DBConfig:
    if not url:
        url = f"sqlite:///{VAR_DIR / 'sensorgrid.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=envint("SENSORGRID_DB_CONN_MAX_AGE", 0))
    except ValueError as exc:
        raise ConfigurationError(f"SENSORGRID_DATABASE_URL is not usable: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the single writer; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between two writing transactions.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        config["TEST"] = {"NAME": env("SENSORGRID_TEST_SQLITE", "") or None}
    elif config["ENGINE"] == "django.db.backends.postgresql" and _POOL_SIZE:
        if config["CONN_MAX_AGE"]:
            raise ConfigurationError(
                "SENSORGRID_DB_POOL_SIZE and SENSORGRID_DB_CONN_MAX_AGE exclude each other: "
                "set SENSORGRID_DB_POOL_SIZE=0 to keep connections per thread instead"
            )
        # Every ASGI request runs in a thread of its own, so a connection per thread
        # is a new connection per request: a pool shares them (docs/configuration.md).
        config["CONN_HEALTH_CHECKS"] = True  # a pooled connection broken by a restart is
        # replaced when taken, instead of failing one request each
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": _POOL_SIZE,
            "timeout": envfloat("SENSORGRID_DB_POOL_TIMEOUT", 5.0),
        }
    return config


DATABASES = {"default": _database(env("SENSORGRID_DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenancy.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"

# Signing in (sensorgrid.accounts; docs/configuration.md). django-axes counts failed
# logins of every form and of the token endpoint, per account and per client address
# (either one past the limit is refused), until COOLOFF minutes pass without a failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]
SENSORGRID_LOGIN_FAILURE_LIMIT = envint("SENSORGRID_LOGIN_FAILURE_LIMIT", 10)
SENSORGRID_LOGIN_COOLOFF_MINUTES = envint("SENSORGRID_LOGIN_COOLOFF_MINUTES", 15)
if SENSORGRID_LOGIN_FAILURE_LIMIT < 1 or SENSORGRID_LOGIN_COOLOFF_MINUTES < 1:
    raise ConfigurationError(
        "SENSORGRID_LOGIN_FAILURE_LIMIT and SENSORGRID_LOGIN_COOLOFF_MINUTES must be at least 1"
    )
AXES_FAILURE_LIMIT = SENSORGRID_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SENSORGRID_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "sensorgrid.accounts.lockout.client_address"  # as NUM_PROXIES
AXES_LOCKOUT_CALLABLE = "sensorgrid.accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (until the cool-off), successes are not
AXES_VERBOSE = False  # its start-up banner would break JSON-lines logs on stdout
# User API tokens expire this many days after they are issued; 0: never.
SENSORGRID_TOKEN_TTL_DAYS = envint("SENSORGRID_TOKEN_TTL_DAYS", 30)
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("SENSORGRID_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("SENSORGRID_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve from the finders too, so a checkout works before `collectstatic`.
WHITENOISE_USE_FINDERS = True

# Request bodies above this size get 413 (JSON API) instead of being read.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("SENSORGRID_MAX_BODY_BYTES", 1024 * 1024)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SENSORGRID_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = envbool("SENSORGRID_SECURE_COOKIES", SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("SENSORGRID_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = envbool("SENSORGRID_HSTS_PRELOAD", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# XSS defence in depth (sensorgrid.dashboard.csp, docs/dashboard.md): a strict
# Content-Security-Policy on every page, the admin and the API docs included. Scripts
# and styles from this origin only; images also from the SENSORGRID_MAP_TILES host.
from sensorgrid.dashboard import csp as _csp  # noqa: E402 (needs SENSORGRID_MAP_TILES)

CONTENT_SECURITY_POLICY = _csp.policy(SENSORGRID_MAP_TILES)
# Device images (issue 23, docs/images.md): pictures bigger than this many bytes or
# pixels are refused (dead letter) before they are decoded; thumbnails this wide/high.
SENSORGRID_IMAGE_MAX_BYTES = envint("SENSORGRID_IMAGE_MAX_BYTES", 8 * 1024 * 1024)
SENSORGRID_IMAGE_MAX_PIXELS = envint("SENSORGRID_IMAGE_MAX_PIXELS", 16_000_000)
SENSORGRID_IMAGE_THUMBNAIL_PX = envint("SENSORGRID_IMAGE_THUMBNAIL_PX", 320)
# The largest MQTT message the ingest service accepts (a picture in a base64 JSON
# envelope, with room to spare): announced to the broker as MQTT 5 Maximum Packet Size
# (plus 16 KiB for the topic and properties), so bigger messages never reach the process.
SENSORGRID_MQTT_MAX_MESSAGE_BYTES = envint(
    "SENSORGRID_MQTT_MAX_MESSAGE_BYTES", SENSORGRID_IMAGE_MAX_BYTES * 4 // 3 + 65_536
)
# Their objects: the filesystem under the var directory, or an S3-compatible store when
# a bucket is named (keys also from ..._FILE). Downloads from S3 redirect to a signed URL
# valid this many seconds; 0 streams them through SensorGrid instead.
SENSORGRID_IMAGES_DIR = Path(env("SENSORGRID_IMAGES_DIR", str(VAR_DIR / "images")))
SENSORGRID_S3_BUCKET = env("SENSORGRID_S3_BUCKET", "")
SENSORGRID_S3_ENDPOINT_URL = env("SENSORGRID_S3_ENDPOINT_URL", "")
SENSORGRID_S3_REGION = env("SENSORGRID_S3_REGION", "")
SENSORGRID_S3_SIGNED_URL_SECONDS = envint("SENSORGRID_S3_SIGNED_URL_SECONDS", 300)
if SENSORGRID_S3_BUCKET:
    STORAGES["images"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SENSORGRID_S3_BUCKET,
            "endpoint_url": SENSORGRID_S3_ENDPOINT_URL or None,
            "region_name": SENSORGRID_S3_REGION or None,
            "access_key": env("SENSORGRID_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env("SENSORGRID_S3_SECRET_ACCESS_KEY", "") or None,
            "querystring_expire": max(1, SENSORGRID_S3_SIGNED_URL_SECONDS),
            "signature_version": "s3v4",  # what MinIO, Ceph and AWS all accept
            "file_overwrite": True,  # keys are content-addressed: a resend writes the same
            "default_acl": None,
        },
    }
else:
    STORAGES["images"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": SENSORGRID_IMAGES_DIR, "allow_overwrite": True},
    }


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sensorgrid.accounts.authentication.ApiTokenAuthentication",  # hashed user tokens
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sensorgrid.tenancy.permissions.TenantPermission"],
    # Input hygiene: JSON bodies with NUL or lone surrogates are a 400 (sensorgrid.api.hygiene).
    "DEFAULT_PARSER_CLASSES": [
        "sensorgrid.api.hygiene.JSONParser",
        "sensorgrid.api.hygiene.FormParser",
        "sensorgrid.api.hygiene.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "sensorgrid.api.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "sensorgrid.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "sensorgrid.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sensorgrid.api.errors.exception_handler",
    # Clients are told apart by REMOTE_ADDR unless proxies are declared; trusting
    # X-Forwarded-For without a proxy would let anyone dodge the login throttle.
    "NUM_PROXIES": envint("SENSORGRID_NUM_PROXIES", 0),
    "DEFAULT_THROTTLE_RATES": {"auth": env("SENSORGRID_AUTH_THROTTLE", "30/min")},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SensorGrid API",
    "DESCRIPTION": (
        "Inventory, tenancy and (in later versions) time series of SensorGrid. "
        "Authenticate with `Authorization: Token <key>` from `POST /api/v1/auth/token/`, "
        "or with a session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags are the path after this prefix ("v1_nodes_list", tag "v1"):
    # derived from the common prefix of all paths, they changed to "api_v1_…" when
    # /write joined the site root, which breaks every client generated from the schema.
    "SCHEMA_PATH_PREFIX": "/api/",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "sensorgrid.tenancy.models.Role",
        "NodeStatusEnum": "sensorgrid.inventory.models.NodeStatus",
        "ChannelKindEnum": "sensorgrid.alerts.models.ChannelKind",
        "RuleKindEnum": "sensorgrid.alerts.models.RuleKind",
    },
}

# To stdout, one event per line; django.request at ERROR (sensorgrid.observability.logs).
# Quiet: SensorGrid's own lines only, no per-request or per-task ones (the demo's children).
SENSORGRID_LOG_QUIET = envbool("SENSORGRID_LOG_QUIET", False)
LOGGING = logs.config(
    env("SENSORGRID_LOG_LEVEL", "INFO"), SENSORGRID_LOG_FORMAT, quiet=SENSORGRID_LOG_QUIET
)
