"""Live push across processes: through Redis (channel layer and cache), and the embedded
`sensorgrid serve --ingest` as a browser sees it (MQTT in, WebSocket out)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.publish
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from tests.live.conftest import connect, frames_until, subscribe
from tests.servers import Mosquitto, Redis, free_port, wait_for_port

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

PUBLISH_FROM_ANOTHER_PROCESS = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
import django
django.setup()
from sensorgrid.live.publish import publisher
assert publisher.enabled(), "the Redis layer publishes from any process"
publisher.offer({int(sys.argv[1]): {"co2": (float(sys.argv[2]), 777.0)}})
assert publisher.flush(10)
"""


def redis_settings(url: str) -> dict:
    return {
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": "sensorgrid:live"},
            }
        },
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "sensorgrid",
            }
        },
    }


@pytest.fixture
def redis():
    server = Redis().start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_publish_from_another_process_reaches_a_client_through_redis(world, redis, tmp_path):
    ts = (timezone.now() - timedelta(seconds=5)).timestamp()

    async def scenario():
        client = await connect(world.alice)
        _, snapshot = await subscribe(client, node=world.node_a.pk)
        assert snapshot["values"] == {}  # and now cached in Redis, for the other process
        environment = {
            **os.environ,
            "SENSORGRID_REDIS_URL": redis.url,
            "SENSORGRID_VAR_DIR": str(tmp_path),
            "SENSORGRID_DATABASE_URL": "",  # never opened: the node is in the shared cache
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            PUBLISH_FROM_ANOTHER_PROCESS,
            str(world.node_a.pk),
            str(ts),
            env=environment,
        )
        assert await process.wait() == 0
        delta = await client.receive_json_from(timeout=5)
        assert delta == {
            "type": "delta",
            "node": world.node_a.pk,
            "ts": datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z"),
            "values": {"co2": 777.0},
        }
        # The other process also kept the shared latest-value cache.
        again = await connect(world.bob)
        _, snapshot = await subscribe(again, node=world.node_a.pk)
        assert snapshot["values"] == {"co2": 777.0}
        await client.disconnect()
        await again.disconnect()

    with override_settings(**redis_settings(redis.url)):
        async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_ingest_in_this_process_reaches_a_client_through_redis(world, redis):
    from sensorgrid.ingest import pipeline
    from tests.ingest.conftest import envelope

    def ingest(co2):
        from sensorgrid.live.publish import publisher

        publisher.flush()  # SQLite's shared in-memory test database: no concurrent reader
        ts = timezone.now() - timedelta(seconds=1)
        body = [
            {"device": world.public_node.device_id, "ts": ts.isoformat(), "values": {"co2": co2}}
        ]
        pipeline.ingest(envelope(json.dumps(body).encode()), "json")

    async def scenario():
        from asgiref.sync import sync_to_async

        client = await connect(None)
        await subscribe(client, installation=world.public_installation.pk)
        await sync_to_async(ingest)(555)
        frames = await frames_until(client, lambda f: f["type"] == "delta", timeout=5)
        assert frames[-1]["values"] == {"co2": 555.0}
        await client.disconnect()

    with override_settings(**redis_settings(redis.url)):
        async_to_sync(scenario)()


SETUP_NODE = """
from datetime import timedelta
from django.utils import timezone
from sensorgrid.inventory.models import Installation, Node, Room, Site
from sensorgrid.tenancy.models import Organization
org = Organization.objects.create(name="Live", slug="live")
room = Room.objects.create(site=Site.objects.create(organization=org, name="School"), name="R1")
node = Node.objects.create(organization=org, device_id="live-e2e")
Installation.objects.create(
    node=node, room=room, start=timezone.now() - timedelta(hours=1), is_public=True
)
print(node.pk)
"""


@pytest.mark.slow
@pytest.mark.skipif(ON_POSTGRES, reason="the embedded defaults: tested in the SQLite pass")
def test_serve_with_ingest_pushes_an_mqtt_message_to_a_websocket_client(tmp_path):
    import websockets

    broker = Mosquitto(tmp_path / "mosquitto").start()
    port = free_port()
    environment = {
        **os.environ,
        "SENSORGRID_VAR_DIR": str(tmp_path),
        "SENSORGRID_DATABASE_URL": "",
        "SENSORGRID_REDIS_URL": "",
        "SENSORGRID_MQTT_URL": broker.url,
    }
    sensorgrid = [sys.executable, "-m", "sensorgrid"]
    subprocess.run([*sensorgrid, "migrate", "-v0"], env=environment, check=True)
    created = subprocess.run(
        [*sensorgrid, "shell", "-c", SETUP_NODE],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    node_id = int(created.stdout.split()[-1])
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*sensorgrid, "serve", "--ingest", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def publish(co2: int) -> None:
        body = {"ts": datetime.now(UTC).isoformat(), "values": {"co2": co2}}
        paho.mqtt.publish.single(
            "sensorgrid/live-e2e/up",
            json.dumps(body),
            qos=1,
            port=broker.port,
            hostname="127.0.0.1",
        )

    async def scenario():
        url = f"ws://127.0.0.1:{port}/ws/live/"
        async with websockets.connect(url, origin=f"http://127.0.0.1:{port}") as ws:
            await ws.send(json.dumps({"subscribe": {"node": node_id}}))
            assert json.loads(await ws.recv())["nodes"] == [node_id]
            assert json.loads(await ws.recv())["type"] == "snapshot"

            async def next_delta(timeout):
                async with asyncio.timeout(timeout):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "delta":
                            return frame

            # The ingester subscribes shortly after the server is up: until its session
            # exists the broker has nobody to queue for, so repeat until one arrives.
            deadline = time.monotonic() + 20
            while True:
                await asyncio.to_thread(publish, 600)
                try:
                    await next_delta(1)
                    break
                except TimeoutError:
                    assert time.monotonic() < deadline, "no delta within 20 s"
            started = time.monotonic()
            await asyncio.to_thread(publish, 700)
            delta = await next_delta(2)
            assert delta["node"] == node_id and delta["values"] == {"co2": 700.0}
            return time.monotonic() - started

    try:
        wait_for_port(port, timeout=30)
        assert asyncio.run(scenario()) < 2
    finally:
        server.terminate()
        try:
            code = server.wait(timeout=30)
        finally:
            broker.stop()
            log.close()
    text = (tmp_path / "serve.log").read_text()
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit status -15).
    assert code in (0, -15), text[-3000:]
    assert "MQTT ingest runs in this web process" in text
    assert "stopped after storing" in text and "Application shutdown complete" in text


def test_serve_refuses_ingest_with_several_workers(tmp_path):
    environment = {**os.environ, "SENSORGRID_VAR_DIR": str(tmp_path), "SENSORGRID_DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "sensorgrid", "serve", "--ingest", "--workers", "2"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "--workers 1" in done.stderr


REMOVE_MEMBERSHIP = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sensorgrid.settings")
import django
django.setup()
from sensorgrid.live.publish import publisher
from sensorgrid.tenancy.models import Membership
assert Membership.objects.filter(pk=int(sys.argv[1])).delete()[0] == 1
assert publisher.flush(10), "the permissions message was not published"
"""


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    return (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}"
        f":{database['PORT']}/{database['NAME']}"
    )


async def _removed_member_is_told(world, remove) -> None:
    """bob follows node A through Redis; ``remove`` ends his membership somewhere."""
    from tests.live.test_consumer import ingest, no_delta

    bob = await connect(world.bob)
    await subscribe(bob, node=world.node_a.pk)
    await ingest(world.node_a, co2=600)
    frames = await frames_until(bob, lambda f: f["type"] == "delta", timeout=5)
    assert frames[-1]["values"] == {"co2": 600.0}
    await remove()
    started = time.monotonic()  # the other process has exited: its message is out
    (*_, told) = await frames_until(bob, lambda f: f["type"] == "unsubscribed", timeout=5)
    assert told["subscription"] == {"node": world.node_a.pk}
    assert time.monotonic() - started < 5
    await ingest(world.node_a, co2=666)
    assert await no_delta(bob, timeout=1)
    await bob.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_membership_deleted_in_this_process_reaches_the_connection_through_redis(world, redis):
    from asgiref.sync import sync_to_async

    from sensorgrid.tenancy.models import Membership

    async def remove():
        await sync_to_async(Membership.objects.filter(pk=world.membership_bob.pk).delete)()

    with override_settings(**redis_settings(redis.url), SENSORGRID_LIVE_RECHECK_SECONDS=0):
        async_to_sync(_removed_member_is_told)(world, remove)


@pytest.mark.skipif(not ON_POSTGRES, reason="another process cannot open SQLite's test database")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_membership_deleted_by_another_process_reaches_the_connection_through_redis(
    world, redis, tmp_path
):
    async def remove():
        environment = {
            **os.environ,
            "SENSORGRID_REDIS_URL": redis.url,
            "SENSORGRID_VAR_DIR": str(tmp_path),
            "SENSORGRID_DATABASE_URL": _test_database_url(),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", REMOVE_MEMBERSHIP, str(world.membership_bob.pk), env=environment
        )
        assert await process.wait() == 0

    # No periodic re-check: only the other process's message can tell the connection.
    with override_settings(**redis_settings(redis.url), SENSORGRID_LIVE_RECHECK_SECONDS=0):
        async_to_sync(_removed_member_is_told)(world, remove)
