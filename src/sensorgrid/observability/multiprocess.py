"""Prometheus multiprocess mode: several processes write metrics into one directory.

prometheus_client keeps values in memory unless ``PROMETHEUS_MULTIPROC_DIR`` is in
the environment *when it is imported*; then every process writes its values into
files there and ``MultiProcessCollector`` adds them up. SensorGrid's knob is
``SENSORGRID_METRICS_DIR``: ``cli.main`` copies it into ``PROMETHEUS_MULTIPROC_DIR``
before anything imports prometheus_client, so every ``sensorgrid`` process of a host
(web workers, ingest, worker) shares the directory, and ``/metrics`` of the web
server shows them all.

This module must not import prometheus_client at module level (see above).
"""

import os
from pathlib import Path

from sensorgrid.env import env

SETTING = "SENSORGRID_METRICS_DIR"
PROMETHEUS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def configure_environment() -> Path | None:
    """Turn multiprocess mode on for this process if ``SENSORGRID_METRICS_DIR`` is set.

    Creates the directory and sets ``PROMETHEUS_MULTIPROC_DIR``; returns the directory,
    or None (single-process mode). Call it before prometheus_client is imported:
    afterwards it only affects child processes.
    """
    raw = env(SETTING).strip()
    if not raw:
        return None
    path = Path(raw).resolve()
    path.mkdir(parents=True, exist_ok=True)
    os.environ[PROMETHEUS_VARIABLE] = str(path)
    return path


def prepare(path: str | os.PathLike) -> Path:
    """Create ``path`` and delete metric files left by an earlier run.

    For whoever starts the process group (the demo's supervisor, a container's entry
    point), before the first process starts: stale files would add old counts and
    the gauges of dead processes. Never while processes of the group are running.
    """
    directory = Path(path).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return directory


def mark_dead(pid: int, path: str | os.PathLike) -> None:
    """Forget the "live" gauges of a process that exited (its counters stay counted).

    For a supervisor that restarts single processes without wiping the directory.
    """
    from prometheus_client import multiprocess  # late: see the module docstring

    multiprocess.mark_process_dead(pid, str(path))


def writes_to(path: str | os.PathLike) -> bool:
    """True if this process's own metrics are written into ``path``."""
    from prometheus_client import values  # late: see the module docstring

    current = os.environ.get(PROMETHEUS_VARIABLE)
    return (
        values.ValueClass is not values.MutexValue
        and current is not None
        and Path(current).resolve() == Path(path).resolve()
    )
