"""SensorGrid's own Prometheus metrics, shared by the web, ingest and worker processes.

Only prometheus_client is imported here, so any process (and a bare subprocess in
the tests) can import the metrics without Django. Names follow Prometheus
conventions: counters get ``_total`` on exposition, durations are in seconds.
Labels have bounded values only (route templates, reasons, task names), never ids.

The MQTT ingest service's own metrics live in ``sensorgrid.ingest.mqtt.metrics``.
"""

from collections.abc import Iterable, Sequence
from typing import Protocol

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "sensorgrid_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "sensorgrid_http_request_seconds",
    "Time from request to response (middleware and view), by method and route template.",
    ["method", "route"],
)
INGESTED_SAMPLES = Counter(
    "sensorgrid_ingested_samples",
    "Sample values committed by the ingest pipeline, by source (http, lorawan, mqtt, …) "
    "and result (new, duplicate).",
    ["source", "result"],
)
DEAD_LETTERS = Counter(
    "sensorgrid_dead_letters",
    "Dead letters filed, by reason and source.",
    ["reason", "source"],
)
EVENT_CONSUMER_ERRORS = Counter(
    "sensorgrid_event_consumer_errors",
    "Exceptions raised by an after-commit consumer (settings AFTER_COMMIT_CONSUMERS), by "
    "consumer; the other consumers still ran and the ingest was kept.",
    ["consumer"],
)
WORKER_TASKS = Counter(
    "sensorgrid_worker_tasks",
    "Background task runs, by task and outcome (complete, error, retrying, …).",
    ["task", "outcome"],
)
WORKER_TASK_SECONDS = Histogram(
    "sensorgrid_worker_task_seconds",
    "Duration of background task runs, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)


class _Sourced(Protocol):
    @property  # read-only, so that frozen dataclasses (ingest's Envelope) match
    def source(self) -> str: ...


def ingested(envelopes: Sequence[_Sourced], inserted: int, duplicates: int) -> None:
    """Count a committed batch's samples under the source of its envelopes.

    Entry points batch envelopes of one source; a mixed batch counts as "mixed".
    """
    sources = {envelope.source for envelope in envelopes}
    source = sources.pop() if len(sources) == 1 else "mixed"
    if inserted:
        INGESTED_SAMPLES.labels(source, "new").inc(inserted)
    if duplicates:
        INGESTED_SAMPLES.labels(source, "duplicate").inc(duplicates)


def dead_lettered(letters: Iterable[tuple[str, str]]) -> None:
    """Count committed dead letters, given as (reason, source) pairs."""
    for reason, source in letters:
        DEAD_LETTERS.labels(reason, source).inc()
