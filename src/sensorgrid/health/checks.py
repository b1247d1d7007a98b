"""Readiness checks: each returns its status and latency; later issues add more."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""
    required: bool = True


def _timed(name: str, probe: Callable[[], None], required: bool = True) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # a readiness probe reports every failure, whatever its type
        return CheckResult(name, False, _ms(started), f"{type(exc).__name__}: {exc}", required)
    return CheckResult(name, True, _ms(started), required=required)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


CHECKS: list[tuple[str, Callable[[], None], bool]] = [("database", database, True)]


def run_all() -> list[CheckResult]:
    return [_timed(name, probe, required) for name, probe, required in CHECKS]
