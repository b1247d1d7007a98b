"""Prometheus metrics of the ingest service, served on its own port when configured.

The port shows this process's metrics only. With ``SENSORGRID_METRICS_DIR`` set, the
same values also reach the web server's ``/metrics`` (sensorgrid.observability).
"""

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "sensorgrid_ingest_messages",
    "MQTT messages handled, by route and outcome (stored, dead-lettered, unrouted).",
    ["route", "outcome"],
)
SAMPLES = Counter(
    "sensorgrid_ingest_samples", "Sample values written, by result (new, duplicate).", ["result"]
)
BATCH_SIZE = Histogram(
    "sensorgrid_ingest_batch_messages",
    "Messages per committed batch.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
)
COMMIT_SECONDS = Histogram(
    "sensorgrid_ingest_commit_seconds",
    "Time to decode, validate and commit one batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Gauges say how processes add up in multiprocess mode (docs/operations.md): "live"
# modes leave out processes that exited (once marked dead or the directory is wiped).
LAG_SECONDS = Gauge(
    "sensorgrid_ingest_lag_seconds",
    "Seconds between receiving the oldest message of the last batch and its commit "
    "(the largest among the running ingest processes).",
    multiprocess_mode="livemax",
)
QUEUE_DEPTH = Gauge(
    "sensorgrid_ingest_queue_depth",
    "Messages received and not yet in a batch (summed over the running ingest processes).",
    multiprocess_mode="livesum",
)
DATABASE_ERRORS = Counter(
    "sensorgrid_ingest_database_errors", "Batches that failed on the database and were retried."
)
CONNECTED = Gauge(
    "sensorgrid_ingest_broker_connected",
    "Ingest processes connected to the broker (1 per connected process).",
    multiprocess_mode="livesum",
)
SESSIONS_LOST = Counter(
    "sensorgrid_ingest_sessions_lost",
    "Reconnections where the broker had lost the persistent session (messages may be lost).",
)
RETAINED_SKIPPED = Counter(
    "sensorgrid_ingest_retained_skipped",
    "Retained messages the broker replayed at a (re)subscription, acknowledged unstored.",
)
# sensorgrid_ingest_callback_errors counts the callbacks of every MQTT client: sensorgrid.mqtt.guard


def serve(port: int, address: str = "127.0.0.1") -> None:
    """Expose the metrics on ``address:port``; a port already taken is logged, not fatal."""
    if port <= 0:
        return
    try:
        start_http_server(port, addr=address)
    except OSError as exc:
        log.warning("metrics not served on %s:%s: %s", address, port, exc)
    else:
        log.info("metrics on http://%s:%s/metrics", address, port)
