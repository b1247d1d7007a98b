"""The demo's embedded broker (amqtt) lets in nodes with their credentials only.

A real amqtt broker in a thread of this process with the database plugin, the ingest
service in another thread logged in with its service account, and devices as paho
clients: what a device may do is what reaches the database.
"""

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import OperationalError
from django.utils import timezone

from sensorgrid.brokerauth import embedded
from sensorgrid.mqtt import Broker, ReasonCode, make_client
from sensorgrid.runtime import broker as embedded_broker
from sensorgrid.telemetry.models import Sample
from tests.factories import NodeFactory
from tests.ingest.conftest import hours_ago
from tests.ingest.mqtt.conftest import eventually, running
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

#: how long the plugin reuses what it read; short here, so rotation tests are quick
CACHE_SECONDS = 1.0


@pytest.fixture(autouse=True)
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json", "/kpi/#=kpi"]


@contextmanager
def amqtt(accounts: Path) -> Iterator[int]:
    """The embedded broker as ``sensorgrid broker`` runs it, on a free port."""
    port = free_port()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    serving = embedded_broker.serve("127.0.0.1", port, stop, accounts, CACHE_SECONDS)
    thread = threading.Thread(target=loop.run_until_complete, args=(serving,), daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.close()


@pytest.fixture
def accounts(tmp_path) -> dict[str, str]:
    """username → password of the service accounts, as the demo makes them."""
    files = embedded.create_service_accounts(tmp_path / "broker")
    return {
        embedded.SERVICE_USERNAMES[account]: path.read_text().strip()
        for account, path in files.items()
    }


@pytest.fixture
def port(tmp_path, accounts) -> Iterator[int]:
    with amqtt(tmp_path / "broker") as port:
        yield port


@pytest.fixture
def ingest(port, accounts):
    username = embedded.SERVICE_USERNAMES["ingest"]
    url = f"mqtt://{username}:{accounts[username]}@127.0.0.1:{port}"
    with running(url, protocol="3.1.1") as ingester:
        yield ingester


def written(write) -> None:
    """Run a database write of the test, as the dashboard would make it.

    The SQLite test database is in memory with a shared cache: while the broker's and
    the ingester's threads read a table, a write from the test fails at once with
    "database table is locked" (a shared cache does not wait, as a database file
    does). Retry for a moment, as a file database's busy timeout would.
    """
    for attempt in range(50):
        try:
            write()
            return
        except OperationalError as error:
            if "locked" not in str(error) or attempt == 49:
                raise
            time.sleep(0.1)


def save_digest(node) -> None:
    written(lambda: node.save(update_fields=["credential_digest"]))


def credential_of(node) -> str:
    credential = node.issue_credential()
    save_digest(node)
    return credential


@contextmanager
def device(
    port: int,
    username: str | None,
    password: str | None,
    will: tuple[str, str] | None = None,
    client_id: str = "",
) -> Iterator:
    """A connected paho client (or the refusal: ``client.refused`` holds the reason code)."""
    answered = threading.Event()
    result: list[ReasonCode] = []

    def on_connect(client, userdata, flags, reason_code, properties):
        result.append(reason_code)
        answered.set()

    broker = Broker("127.0.0.1", port, username=username, password=password)
    client = make_client(
        broker,
        name="test-device",
        client_id=client_id or f"dev-{uuid.uuid4().hex[:8]}",
        callbacks={"on_connect": on_connect},
    )
    if will is not None:
        client.will_set(*will, qos=1)
    client.start(keepalive=30, wait=True)
    try:
        assert answered.wait(10), "no CONNACK"
        client.refused = result[0] if result[0].is_failure else None
        yield client
    finally:
        client.stop()


def publish(client, topic: str, values: dict, hours: float = 1) -> None:
    body = json.dumps({"ts": hours_ago(hours).isoformat(), "values": values})
    assert client.publish(topic, body, qos=1).wait_for_publish(10) is None


def stored(node) -> list[float]:
    return list(Sample.objects.filter(node=node).order_by("ts").values_list("value", flat=True))


def test_an_anonymous_client_is_refused(port):
    with device(port, None, None) as client:
        assert str(client.refused) == "Not authorized"


def test_a_wrong_password_or_an_unknown_node_is_refused(world, port, caplog):
    credential_of(world.node_a)
    for username, password in [
        (world.node_a.broker_username, "sgn_wrong"),
        (world.node_a.broker_username, ""),
        ("node-999999", "sgn_wrong"),
        ("node-9999999999999999999", "sgn_wrong"),  # beyond a bigint: refused, no error
        (world.node_a.device_id, "sgn_wrong"),  # the device id is no username
    ]:
        with device(port, username, password) as client:
            assert client.refused is not None, username
    assert not [
        r for r in caplog.records if r.name.startswith("sensorgrid") and r.levelname == "ERROR"
    ]


def test_a_node_stores_on_its_own_topic_and_nothing_on_another_devices(world, port, ingest):
    sibling = NodeFactory(organization=world.org_a, device_id="sibling")
    with device(port, world.node_a.broker_username, credential_of(world.node_a)) as client:
        assert client.refused is None
        for foreign in (world.node_b, sibling):  # other organization, same organization
            publish(client, f"sensorgrid/{foreign.device_id}/up", {"co2": 999}, hours=3)
        publish(client, "/kpi/anything", {"co2": 999}, hours=3)  # an integration's route
        publish(client, f"sensorgrid/{world.node_a.device_id}/up", {"co2": 612})
        eventually(lambda: stored(world.node_a) == [612], what="the node's own reading")
    # The ingest service took the messages in order: the dropped ones came first.
    assert stored(world.node_b) == [] and stored(sibling) == []
    assert Sample.objects.count() == 1


def test_a_will_on_another_devices_topic_is_refused_at_connect(world, port, ingest):
    node, credential = world.node_a, credential_of(world.node_a)
    forged = json.dumps({"ts": hours_ago(5).isoformat(), "values": {"co2": 999}})
    with device(
        port, node.broker_username, credential, will=("sensorgrid/secretB-node/up", forged)
    ) as client:
        assert str(client.refused) == "Not authorized"
    own = f"sensorgrid/{node.device_id}/up"
    with device(port, node.broker_username, credential, will=(own, forged)) as client:
        assert client.refused is None
        client.socket().close()  # an abrupt end: the broker publishes the will
        eventually(lambda: stored(node) == [999], what="the will on its own topic")
    assert stored(world.node_b) == []


def test_nobody_else_can_take_over_or_clear_the_ingest_services_session(world, port, ingest):
    taken = ingest.options.client_id
    credential = credential_of(world.node_a)
    # amqtt alone would drop the ingest's subscriptions before checking these logins.
    for username, password in [
        (None, None),
        ("node-999999", "x"),
        (world.node_a.broker_username, credential),
    ]:
        with device(port, username, password, client_id=taken) as stranger:
            assert str(stranger.refused) == "Not authorized", username
    with device(port, world.node_a.broker_username, credential) as client:
        publish(client, f"sensorgrid/{world.node_a.device_id}/up", {"co2": 640})
        eventually(lambda: stored(world.node_a) == [640], what="the ingest still subscribed")


def test_a_node_may_subscribe_to_nothing(world, port):
    with device(port, world.node_a.broker_username, credential_of(world.node_a)) as client:
        for topic_filter in ("#", f"sensorgrid/{world.node_b.device_id}/up", "sensorgrid/+/up"):
            granted = threading.Event()
            codes: list = []

            def on_subscribe(c, userdata, mid, reason_codes, props, codes=codes, granted=granted):
                codes.extend(reason_codes)
                granted.set()

            client.on_subscribe = on_subscribe
            client.subscribe(topic_filter, qos=1)
            assert granted.wait(10)
            assert codes[0].is_failure, topic_filter


def test_rotation_refuses_the_old_credential_at_once_and_its_messages_within_seconds(
    world, port, ingest
):
    node = world.node_a
    old = credential_of(node)
    with device(port, node.broker_username, old) as connected:
        assert connected.refused is None
        publish(connected, f"sensorgrid/{node.device_id}/up", {"co2": 500}, hours=4)
        eventually(lambda: stored(node) == [500])
        new = credential_of(node)
        with device(port, node.broker_username, old) as again:
            assert again.refused is not None  # the next connection: at once
        # Still connected with the old one: dropped once the cache expired.
        time.sleep(CACHE_SECONDS + 0.5)
        publish(connected, f"sensorgrid/{node.device_id}/up", {"co2": 501}, hours=3)
    with device(port, node.broker_username, new) as client:
        assert client.refused is None
        publish(client, f"sensorgrid/{node.device_id}/up", {"co2": 502}, hours=2)
        eventually(lambda: stored(node) == [500, 502], what="the new credential's reading")


def test_a_disabled_or_deleted_node_is_refused(world, port):
    node = world.node_a
    credential = credential_of(node)
    node.credential_digest = ""  # disabled (the dashboard's Disable): no credential at all
    save_digest(node)
    with device(port, node.broker_username, credential) as client:
        assert client.refused is not None
    credential = credential_of(node)
    username = node.broker_username
    written(node.delete)
    with device(port, username, credential) as client:
        assert client.refused is not None


def test_service_accounts_do_only_their_job(world, port, accounts):
    ingest_user, simulator_user = (
        embedded.SERVICE_USERNAMES["ingest"],
        embedded.SERVICE_USERNAMES["simulator"],
    )
    received: list[str] = []
    with device(port, ingest_user, accounts[ingest_user]) as listener:
        assert listener.refused is None
        subscribed = threading.Event()
        listener.on_subscribe = lambda *args: subscribed.set()
        listener.on_message = lambda client, userdata, message: received.append(message.topic)
        listener.subscribe("#", qos=1)
        assert subscribed.wait(10)
        with device(port, simulator_user, accounts[simulator_user]) as simulator:
            assert simulator.refused is None
            # The simulator plays every device and network server: the route filters.
            publish(simulator, "sensorgrid/any-device/up", {"co2": 1})
            publish(simulator, "not/a/route", {"co2": 1})
            publish(listener, "sensorgrid/from-ingest/up", {"co2": 1})  # ingest never publishes
            publish(simulator, "/kpi/last", {"co2": 1})
            eventually(lambda: "/kpi/last" in received)
    assert received == ["sensorgrid/any-device/up", "/kpi/last"]
    with device(port, simulator_user, "wrong") as client:
        assert client.refused is not None


def test_the_demo_makes_new_private_service_passwords_each_start(tmp_path):
    first = embedded.create_service_accounts(tmp_path / "broker")
    before = {account: path.read_text() for account, path in first.items()}
    second = embedded.create_service_accounts(tmp_path / "broker")
    assert set(second) == {"ingest", "simulator"}
    for account, path in second.items():
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.read_text() != before[account] and len(path.read_text().strip()) >= 40
    assert (tmp_path / "broker").stat().st_mode & 0o777 == 0o700


def test_a_suspended_organizations_node_is_refused_until_unsuspended(world, port):
    node = world.node_a
    credential = credential_of(node)
    with device(port, node.broker_username, credential) as client:
        assert client.refused is None
    world.org_a.suspended_at = timezone.now()
    written(lambda: world.org_a.save(update_fields=["suspended_at"]))
    time.sleep(CACHE_SECONDS + 0.5)  # what the plugin read of the node may be that old
    with device(port, node.broker_username, credential) as client:
        assert client.refused is not None
    world.org_a.suspended_at = None
    written(lambda: world.org_a.save(update_fields=["suspended_at"]))
    time.sleep(CACHE_SECONDS + 0.5)
    with device(port, node.broker_username, credential) as client:
        assert client.refused is None  # the same credential
