"""/readyz reports the cache, the broker and the worker, each with status and latency;
the parts named in SENSORGRID_READYZ_REQUIRED turn it 503 when they are down. The
Redis and Mosquitto stopped here are throwaway servers the tests start themselves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.worker import heartbeat
from sensorgrid.worker.models import Heartbeat
from tests.servers import Mosquitto, Redis, free_port


@pytest.fixture
def redis_server():
    server = Redis().start()
    yield server
    server.stop()


def checks(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()["checks"]


def test_the_worker_is_down_until_it_beats_and_again_when_its_beat_is_old(db, client, settings):
    settings.SENSORGRID_READYZ_REQUIRED = ["worker"]
    status, found = checks(client)
    assert status == 503
    assert found["worker"]["status"] == "down"
    assert "sensorgrid worker" in found["worker"]["error"]

    heartbeat.beat()
    status, found = checks(client)
    assert status == 200
    assert found["worker"]["status"] == "ok"
    assert 0 <= found["worker"]["heartbeat_age_s"] < 5

    Heartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=10))
    status, found = checks(client)
    assert status == 503
    assert "s old (limit 180 s)" in found["worker"]["error"]


def test_a_worker_not_required_is_reported_but_does_not_fail_readiness(db, client, settings):
    settings.SENSORGRID_READYZ_REQUIRED = []
    status, found = checks(client)
    assert status == 200
    assert (found["worker"]["status"], found["worker"]["required"]) == ("down", False)


def test_redis_going_down_makes_the_cache_check_fail(db, client, settings, redis_server):
    settings.REDIS_URL = redis_server.url
    status, found = checks(client)
    assert status == 200
    assert found["cache"]["status"] == "ok" and found["cache"]["backend"] == "redis"
    assert found["cache"]["latency_ms"] >= 0

    redis_server.stop()
    status, found = checks(client)
    assert status == 503  # the cache is required by default
    assert found["cache"]["status"] == "down"
    assert "ConnectionError" in found["cache"]["error"]
    assert found["database"]["status"] == "ok"


def test_without_redis_the_cache_is_in_process_and_up(db, client, settings):
    settings.REDIS_URL = ""
    cache = checks(client)[1]["cache"]
    assert (cache["status"], cache["backend"]) == ("ok", "in-process")


def test_the_broker_is_checked_and_required_only_when_configured(db, client, settings, tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        settings.SENSORGRID_MQTT_URL = broker.url
        settings.SENSORGRID_READYZ_REQUIRED = ["broker"]
        status, found = checks(client)
        assert status == 200 and found["broker"]["status"] == "ok"
    finally:
        broker.stop()
    status, found = checks(client)
    assert status == 503 and found["broker"]["status"] == "down"

    settings.SENSORGRID_READYZ_REQUIRED = []
    settings.SENSORGRID_MQTT_URL = f"mqtt://127.0.0.1:{free_port()}"
    status, found = checks(client)
    assert status == 200 and found["broker"]["status"] == "down"
