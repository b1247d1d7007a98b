"""Log lines: JSON for shippers, text in a terminal, the request id on each record."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from sensorgrid.env import ConfigurationError
from sensorgrid.observability import logs


@pytest.fixture
def json_lines():
    """Records of the ``sensorgrid`` loggers, formatted as the JSON handler does."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("sensorgrid")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_request_logs_one_json_object_per_line_with_its_request_id(client, json_lines):
    client.get("/healthz", HTTP_X_REQUEST_ID="req-json-1")
    (event,) = [e for e in json_lines() if e["logger"] == "sensorgrid.http"]
    assert event["level"] == "INFO"
    assert event["request_id"] == "req-json-1"
    assert event["route"] == "healthz" and event["status"] == 200
    assert "GET /healthz 200" in event["message"]
    assert event["time"].endswith("+00:00")


def test_extras_pass_through_and_a_traceback_stays_on_one_line(json_lines):
    log = logging.getLogger("sensorgrid.test")
    log.warning("node %s is quiet", "n-1", extra={"node": "n-1", "device": "dev-1"})
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("it broke")
    quiet, broke = json_lines()
    assert quiet["message"] == "node n-1 is quiet"
    assert (quiet["node"], quiet["device"], quiet["request_id"]) == ("n-1", "dev-1", None)
    assert "ValueError: boom" in broke["exc_info"]


def test_text_format_shows_the_context_after_the_message():
    record = logging.LogRecord("sensorgrid.x", logging.INFO, __file__, 1, "hello", (), None)
    record.request_id, record.node = "r-1", "n-1"
    line = logs.TextFormatter().format(record)
    assert line.endswith("INFO sensorgrid.x: hello request_id=r-1 node=n-1")


def test_auto_is_text_on_a_terminal_and_json_in_a_pipe():
    leader, follower = os.openpty()
    read, write = os.pipe()
    try:
        with open(follower, "w", closefd=False) as terminal, open(write, "w") as pipe:
            assert logs.resolve_format("auto", terminal) == "text"
            assert logs.resolve_format("auto", pipe) == "json"
            assert logs.resolve_format("", pipe) == "json"
            assert logs.resolve_format("TEXT", pipe) == "text"
    finally:
        for fd in (leader, follower, read):
            os.close(fd)


def test_an_unknown_format_stops_start_up():
    with pytest.raises(ConfigurationError, match="SENSORGRID_LOG_FORMAT"):
        logs.config("INFO", "xml")


def test_config_keeps_the_level_and_django_request_at_error():
    config = logs.config("debug", "json")
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["django.request"] == {"level": "ERROR"}
    assert config["handlers"]["console"]["stream"] == "ext://sys.stdout"


def test_the_sensorgrid_command_writes_json_lines_to_stdout(tmp_path):
    """Settings wire it up: every stdout line of a process is one JSON event."""
    code = "import logging; logging.getLogger('sensorgrid.x').warning('hi', extra={'node': 7})"
    result = subprocess.run(
        [sys.executable, "-m", "sensorgrid", "shell", "-v", "0", "-c", code],
        env={**os.environ, "SENSORGRID_LOG_FORMAT": "json", "SENSORGRID_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["message"], e["level"], e["node"]) for e in events] == [("hi", "WARNING", 7)]
    assert "request_id" in events[0]


def test_quiet_keeps_sensorgrids_own_lines_and_drops_requests_tasks_and_framework_info(
    tmp_path,
):
    """SENSORGRID_LOG_QUIET (the demo's children): our INFO lines, no access line per
    request, no huey or uvicorn INFO, warnings from anyone."""
    code = (
        "import logging\n"
        "logging.getLogger('sensorgrid.ingest').info('ours')\n"
        "logging.getLogger('sensorgrid.http').info('GET / 200')\n"
        "logging.getLogger('huey').info('Executing a task')\n"
        "logging.getLogger('uvicorn.error').info('Started server process')\n"
        "logging.getLogger('amqtt').warning('theirs, but a warning')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "sensorgrid", "shell", "-v", "0", "-c", code],
        env={
            **os.environ,
            "SENSORGRID_LOG_FORMAT": "json",
            "SENSORGRID_LOG_QUIET": "true",
            "SENSORGRID_VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["message"] for e in events] == ["ours", "theirs, but a warning"]
    assert logs.config("info", "json")["root"]["level"] == "INFO"  # not quiet: all of it
