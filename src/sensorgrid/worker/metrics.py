"""The worker on /metrics.

Task runs and durations from Huey's signals (counted in the worker process), and the
age of the newest heartbeat, read from the database at scrape time by whichever
process serves /metrics (registered by ``WorkerConfig.ready()``).
"""

import threading
import time
from collections.abc import Iterator

from django.utils import timezone
from huey import signals as huey_signals
from prometheus_client.core import GaugeMetricFamily, Metric

from sensorgrid.observability.metrics import WORKER_TASK_SECONDS, WORKER_TASKS
from sensorgrid.worker import heartbeat

OUTCOMES = (
    huey_signals.SIGNAL_COMPLETE,
    huey_signals.SIGNAL_ERROR,
    huey_signals.SIGNAL_RETRYING,
    huey_signals.SIGNAL_TIMEOUT,
    huey_signals.SIGNAL_INTERRUPTED,
    huey_signals.SIGNAL_CANCELED,
    huey_signals.SIGNAL_LOCKED,
    huey_signals.SIGNAL_EXPIRED,
)

_started: dict[str, float] = {}
_lock = threading.Lock()


def _executing(signal: str, task, *args, **kwargs) -> None:
    with _lock:
        _started[task.id] = time.monotonic()


def _finished(signal: str, task, *args, **kwargs) -> None:
    WORKER_TASKS.labels(task.name, signal).inc()
    with _lock:
        started = _started.pop(task.id, None)
    if started is not None and signal in (huey_signals.SIGNAL_COMPLETE, huey_signals.SIGNAL_ERROR):
        WORKER_TASK_SECONDS.labels(task.name).observe(time.monotonic() - started)


def connect(huey) -> None:
    huey.signal(huey_signals.SIGNAL_EXECUTING)(_executing)
    huey.signal(*OUTCOMES)(_finished)


class HeartbeatAgeCollector:
    def collect(self) -> Iterator[Metric]:
        newest = heartbeat.newest()
        if newest is not None:
            yield GaugeMetricFamily(
                "sensorgrid_worker_heartbeat_age_seconds",
                "Seconds since the newest heartbeat of any worker.",
                value=max((timezone.now() - newest).total_seconds(), 0.0),
            )
