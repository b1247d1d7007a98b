"""Metrics of several processes add up at /metrics (SENSORGRID_METRICS_DIR)."""

import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sensorgrid.observability import multiprocess

#: Runs in a bare Python process in multiprocess mode: increments, sets a gauge, exits.
WRITER = """
import sys
from sensorgrid.ingest.mqtt import metrics as mqtt
from sensorgrid.observability import metrics
for _ in range(int(sys.argv[1])):
    metrics.INGESTED_SAMPLES.labels("mp-test", "new").inc()
mqtt.QUEUE_DEPTH.set(int(sys.argv[2]))
metrics.HTTP_REQUEST_SECONDS.labels("GET", "mp-route").observe(0.2)
print(__import__("os").getpid())
"""


def write_metrics(directory, increments: int, depth: int) -> int:
    """Run WRITER in a new process writing into ``directory``; its pid."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    environment.pop("SENSORGRID_METRICS_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", WRITER, str(increments), str(depth)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(result.stdout)


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


INGESTED = ("sensorgrid_ingested_samples_total", (("result", "new"), ("source", "mp-test")))
DEPTH = ("sensorgrid_ingest_queue_depth", ())
LATENCY = (
    "sensorgrid_http_request_seconds_count",
    (("method", "GET"), ("route", "mp-route")),
)


@pytest.fixture
def metrics_dir(db, tmp_path, settings):
    directory = multiprocess.prepare(tmp_path / "metrics")
    settings.SENSORGRID_METRICS_DIR = str(directory)
    return directory


def test_metrics_of_two_processes_are_summed(client, metrics_dir):
    first = write_metrics(metrics_dir, increments=3, depth=5)
    second = write_metrics(metrics_dir, increments=4, depth=7)
    assert first != second
    scraped = scrape(client)
    assert scraped[INGESTED] == 7
    assert scraped[DEPTH] == 12  # livesum
    assert scraped[LATENCY] == 2


def test_a_dead_process_leaves_the_live_gauges_but_keeps_its_counts(client, metrics_dir):
    first = write_metrics(metrics_dir, increments=3, depth=5)
    write_metrics(metrics_dir, increments=4, depth=7)
    multiprocess.mark_dead(first, metrics_dir)
    scraped = scrape(client)
    assert scraped[INGESTED] == 7
    assert scraped[DEPTH] == 7


def test_prepare_wipes_an_earlier_run(client, metrics_dir):
    write_metrics(metrics_dir, increments=3, depth=5)
    multiprocess.prepare(metrics_dir)
    assert not list(metrics_dir.glob("*.db"))
    assert INGESTED not in scrape(client)


def test_the_sensorgrid_command_turns_multiprocess_mode_on(client, metrics_dir, tmp_path):
    """cli.main copies SENSORGRID_METRICS_DIR into PROMETHEUS_MULTIPROC_DIR in time."""
    code = (
        "from sensorgrid.observability import metrics; "
        "metrics.DEAD_LETTERS.labels('mp-reason', 'mp-source').inc(2)"
    )
    environment = {
        **os.environ,
        "SENSORGRID_METRICS_DIR": str(metrics_dir),
        "SENSORGRID_VAR_DIR": str(tmp_path / "var"),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run(
        [sys.executable, "-m", "sensorgrid", "shell", "-v", "0", "-c", code],
        env=environment,
        capture_output=True,
        timeout=60,
        check=True,
    )
    labels = (("reason", "mp-reason"), ("source", "mp-source"))
    assert scrape(client)[("sensorgrid_dead_letters_total", labels)] == 2
