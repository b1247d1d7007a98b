"""Readiness checks: each reports its status and latency, and whether it is required.

The database is always required. The cache (Redis, when configured), the MQTT
broker and the worker's heartbeat are reported; ``SENSORGRID_READYZ_REQUIRED``
names those whose failure makes /readyz answer 503 (docs/operations.md).
"""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sensorgrid.ingest.mqtt import broker as brokers
from sensorgrid.worker import heartbeat

TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""
    required: bool = True
    detail: dict = field(default_factory=dict)


class Down(Exception):
    """A probe that ran but found its part not working (as opposed to unreachable)."""


Probe = Callable[[], dict | None]


def _timed(name: str, probe: Probe, required: bool) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = probe() or {}
    except Exception as exc:  # a readiness probe reports every failure, whatever its type
        message = str(exc) if isinstance(exc, Down) else f"{type(exc).__name__}: {exc}"
        return CheckResult(name, False, _ms(started), message, required)
    return CheckResult(name, True, _ms(started), required=required, detail=detail)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def database() -> dict | None:
    pool = getattr(connection, "pool", None)  # PostgreSQL with SENSORGRID_DB_POOL_SIZE
    if pool is not None:
        # Not through connection.cursor(): that waits SENSORGRID_DB_POOL_TIMEOUT for a
        # connection, and a readiness probe must answer within its own timeout.
        pool.open()
        conn = pool.getconn(timeout=TIMEOUT_S)
        try:
            conn.execute("SELECT 1")
        finally:
            pool.putconn(conn)
        stats = pool.get_stats()
        return {
            "pool_size": stats.get("pool_size", 0),
            "pool_available": stats.get("pool_available", 0),
        }
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None  # up, and nothing to report without a pool


def cache() -> dict:
    if not settings.REDIS_URL:
        return {"backend": "in-process"}
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"backend": "redis"}


def broker() -> dict:
    """The MQTT broker accepts TCP connections (the ingest service's dependency)."""
    where = brokers.from_settings()
    with socket.create_connection((where.host, where.port), timeout=TIMEOUT_S):
        pass
    return {"url": where.display}


def worker() -> dict:
    newest = heartbeat.newest()
    if newest is None:
        raise Down("no worker has ever reported (is `sensorgrid worker` running?)")
    age = (timezone.now() - newest).total_seconds()
    limit = settings.SENSORGRID_WORKER_HEARTBEAT_MAX_AGE
    if age > limit:
        raise Down(f"newest worker heartbeat is {age:.0f} s old (limit {limit} s)")
    return {"heartbeat_age_s": round(max(age, 0.0), 1)}


CHECKS: list[tuple[str, Probe]] = [
    ("database", database),
    ("cache", cache),
    ("broker", broker),
    ("worker", worker),
]


#: Checks that read the database: not run when it is down (each would wait for it).
NEEDS_DATABASE = {"worker"}


def run_all() -> list[CheckResult]:
    required = {"database", *settings.SENSORGRID_READYZ_REQUIRED}
    results: list[CheckResult] = []
    for name, probe in CHECKS:
        database_down = any(r.name == "database" and not r.ok for r in results)
        if name in NEEDS_DATABASE and database_down:
            results.append(
                CheckResult(name, False, 0.0, "not checked: the database is down", name in required)
            )
        else:
            results.append(_timed(name, probe, name in required))
    return results
