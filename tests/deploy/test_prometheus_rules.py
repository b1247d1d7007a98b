"""The Prometheus alert rules (deploy/prometheus/) name only what /metrics exports.

A rule on a metric that does not exist never fires, and nothing says so: the test scrapes
/metrics of an install with data (values and dead letters through the pipeline, a worker
heartbeat, a broker outbox and a reconcile) and finds every metric name each rule uses,
and every label it matches or groups by on the metric's series. `promtool check rules` and
`promtool check config` (Debian's `prometheus` package, which .ci/run installs) validate
the files, and `promtool test rules` (tests/deploy/sensorgrid-rules.test.yml) shows the main
alerts fire on their series after their `for` and stay quiet on a healthy install; without
promtool those tests skip, except under CI, where they fail.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import yaml
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

import sensorgrid.ingest.mqtt.metrics  # noqa: F401 (the ingest service's metrics, as `ingest` has them)
from sensorgrid.brokerauth.models import BrokerChange, Reconciliation
from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.worker import heartbeat
from tests.servers import free_port, wait_for_port
from tests.support.commands import Sensorgrid, stop

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = DEPLOY / "sensorgrid-rules.yml"
CONFIG = DEPLOY / "prometheus.yml"
# Series Prometheus makes itself for every target, not exported by SensorGrid.
PROMETHEUS_OWN = {"up"}
# Exported on PostgreSQL only (SQLite has no partitions).
POSTGRESQL_ONLY = {"sensorgrid_sample_partition_bytes"}
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
}  # fmt: skip


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def used(expression: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(metric names, (metric, label) pairs of its matchers) of a PromQL expression."""
    expression = re.sub(r'"[^"]*"', '""', expression)
    labels = {
        (metric, label)
        for metric, matchers in re.findall(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", expression)
        for label in re.findall(r"(\w+)\s*[=!]~?", matchers)
    }
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expression)
    stripped = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", stripped
    )
    names = {
        token
        for token in re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", stripped)
        if token.lower() not in KEYWORDS
    }
    return names, labels


@pytest.fixture
def scraped(world, client, django_capture_on_commit_callbacks) -> dict[str, set[str]]:
    """Every metric name on /metrics with the label names of its series."""
    now = timezone.now()
    readings = [
        {"device": world.node_a.device_id, "ts": now.isoformat(), "values": {"co2": 500}},
        {"device": "nobody", "ts": now.isoformat(), "values": {"co2": 500}},
    ]
    payload = json.dumps(readings).encode()
    authority = Authority(world.org_a.pk)
    envelope = Envelope("http", "/api/v1/ingest/", payload, now, "application/json", authority)
    with django_capture_on_commit_callbacks(execute=True):  # metrics count after the commit
        pipeline.ingest(envelope, "json")
    heartbeat.beat()
    BrokerChange.objects.create(username="node-x", action="upsert", next_attempt_at=now)
    Reconciliation.objects.create(started_at=now - timedelta(minutes=1), finished_at=now, drift=2)
    body = client.get("/metrics").content.decode()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(body):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        for name in [family.name, *(family.name + s for s in suffixes.get(family.type, []))]:
            found.setdefault(name, set())
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


def test_every_metric_and_label_the_rules_use_is_on_metrics(scraped):
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    postgresql = connection.vendor == "postgresql"
    missing, unlabelled, names = [], [], set()
    for rule in rules():
        metrics, labels = used(rule["expr"])
        names |= metrics
        for metric in metrics - recorded - PROMETHEUS_OWN:
            if metric not in scraped and (postgresql or metric not in POSTGRESQL_ONLY):
                missing.append((rule.get("alert") or rule["record"], metric))
        for metric, label in labels:
            if metric in scraped and scraped[metric] and label not in scraped[metric]:
                unlabelled.append((rule.get("alert"), metric, label))
    assert missing == [], f"metrics the rules use that /metrics does not export: {missing}"
    assert unlabelled == [], f"labels the metrics' series do not carry: {unlabelled}"
    # the names the issue asks to be alerted on, read from the rules themselves
    assert {
        "sensorgrid_ingest_lag_seconds",
        "sensorgrid_ingest_queue_depth",
        "sensorgrid_dead_letters_total",
        "sensorgrid_worker_heartbeat_age_seconds",
        "sensorgrid_database_up",
        "sensorgrid_sample_partition_bytes",
        "sensorgrid_broker_oldest_pending_seconds",
        "sensorgrid_broker_drift",
        "sensorgrid_broker_changes",
    } <= names


def test_the_label_matchers_are_checked_on_series_that_exist(scraped):
    # with data in place these series carry the labels the rules match on
    assert {"reason", "source"} <= scraped["sensorgrid_dead_letters_total"]
    assert {"status"} <= scraped["sensorgrid_broker_changes"]
    if connection.vendor == "postgresql":
        assert "partition" in scraped["sensorgrid_sample_partition_bytes"]


def test_the_metric_name_reader_finds_names_and_skips_functions_and_keywords():
    names, labels = used(
        'sum by (task) (rate(a_total{reason="x",b!~"y"}[5m])) / on() b_seconds > 2 and up == 1'
    )
    assert names == {"a_total", "b_seconds", "up"}
    assert labels == {("a_total", "reason"), ("a_total", "b")}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("promtool is missing under CI: .ci/run installs Debian's prometheus")
        pytest.skip("promtool is not installed (apt-get install prometheus); CI installs it")
    return found


@pytest.mark.parametrize("check, path", [("rules", RULES), ("config", CONFIG)])
def test_promtool_accepts_the_files(check, path):
    done = subprocess.run(
        [promtool(), "check", check, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_the_alerts_fire_on_their_series_and_stay_quiet_on_a_healthy_install():
    """`promtool test rules` with tests/deploy/sensorgrid-rules.test.yml."""
    done = subprocess.run(
        [promtool(), "test", "rules", str(Path(__file__).with_name("sensorgrid-rules.test.yml"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_configuration_loads_the_rules_file():
    config = yaml.safe_load(CONFIG.read_text())
    assert [DEPLOY / name for name in config["rule_files"]] == [RULES]


def test_a_database_that_does_not_answer_is_a_0_on_metrics_not_a_missing_series(
    client, db, monkeypatch
):
    from django.db import OperationalError

    from sensorgrid.health import checks

    def refused():
        raise OperationalError("connection refused")

    up = client.get("/metrics").content.decode()
    assert "\nsensorgrid_database_up 1.0\n" in up
    monkeypatch.setattr(checks, "database", refused)
    down = client.get("/metrics")
    assert down.status_code == 200
    assert "\nsensorgrid_database_up 0.0\n" in down.content.decode()


def test_a_real_prometheus_loads_the_rules_and_scrapes_a_running_serve(tmp_path):
    """deploy/prometheus/ as shipped, its target swapped for a `sensorgrid serve` here."""
    binary = shutil.which("prometheus")
    if binary is None:
        promtool()  # the same rule: fails under CI, skips elsewhere
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    commands = Sensorgrid(
        sys.executable,
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("SENSORGRID_")},
            "SENSORGRID_VAR_DIR": str(tmp_path),
        },
        tmp_path,
    )
    commands.run("migrate", "--no-input", "-v0")
    web, ui = free_port(), free_port()
    config = yaml.safe_load(CONFIG.read_text())
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(RULES)]
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "sensorgrid-web"]
    job["static_configs"][0]["targets"] = [f"127.0.0.1:{web}"]
    config["scrape_configs"] = [job]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    server = commands.start("serve", "serve", "--port", str(web))
    with (tmp_path / "prometheus.log").open("w") as log:
        scraper = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{ui}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(web, timeout=60)
        wait_for_port(ui, timeout=60)
        api = f"http://127.0.0.1:{ui}/api/v1"
        deadline, value = time.monotonic() + 60, None
        while time.monotonic() < deadline and value != "1":
            time.sleep(1)
            answer = requests.get(f"{api}/query", params={"query": "sensorgrid_database_up"})
            result = answer.json()["data"]["result"]
            value = result[0]["value"][1] if result else None
        assert value == "1", (tmp_path / "prometheus.log").read_text()[-2000:]
        (target,) = requests.get(f"{api}/targets").json()["data"]["activeTargets"]
        assert (target["health"], target["labels"]["job"]) == ("up", "sensorgrid-web")
        groups = requests.get(f"{api}/rules").json()["data"]["groups"]
        loaded = {rule["name"] for group in groups for rule in group["rules"]}
        assert {rule.get("alert") or rule["record"] for rule in rules()} == loaded
        assert all(rule["health"] != "err" for g in groups for rule in g["rules"]), groups
    finally:
        scraper.terminate()
        scraper.wait(timeout=30)
        stop(server)
