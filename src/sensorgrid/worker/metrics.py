"""Task runs and durations for /metrics, from Huey's signals (worker process only)."""

import threading
import time

from huey import signals as huey_signals

from sensorgrid.observability.metrics import WORKER_TASK_SECONDS, WORKER_TASKS

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
