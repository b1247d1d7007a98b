"""The SensorThings MQTT extension (OGC 18-088 §14) with a real paho subscriber against
the real server (sensorthings/mqtt/server.py) on a free port: what each user hears of
values ingested through the pipeline, REST POSTs and MQTT Create, through the walls.
"""

import asyncio
import json
import queue
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import paho.mqtt.client as paho
import pytest
from django.db.backends.signals import connection_created
from django.utils import timezone

from sensorgrid.accounts.models import ApiToken
from sensorgrid.sensorthings import mirror, write
from sensorgrid.sensorthings.mqtt import server as server_module
from sensorgrid.sensorthings.mqtt.feed import feed
from sensorgrid.sensorthings.mqtt.server import Server
from sensorgrid.sensorthings.write import samples
from tests.servers import Redis

BASE = "http://testserver/sta/v1.1/"
BAD_LOGIN = "Bad user name or password"  # CONNACK 4
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _reads_take_no_table_locks(sender, connection, **kwargs):
    """The server's threads read the tests' SQLite database as readers of a WAL file
    (production's SQLite) do: without the table locks of a shared-cache memory database,
    which refuse a test's write at once ("database table is locked") while a delivery
    round reads the same table."""
    if connection.vendor == "sqlite" and threading.current_thread().name.startswith("sta-mqtt"):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


@contextmanager
def running_server():
    """The MQTT server on a free port, in an event loop of its own (as in serve)."""
    connection_created.connect(_reads_take_no_table_locks)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = Server("127.0.0.1", 0, BASE)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        connection_created.disconnect(_reads_take_no_table_locks)


@pytest.fixture
def endpoint(monkeypatch):
    monkeypatch.setattr(server_module, "REVALIDATE_SECONDS", 0.2)
    with running_server() as server:
        yield server


class Subscriber:
    """A paho client that records CONNACK, SUBACKs, messages and its disconnection."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None):
        self.messages: queue.Queue = queue.Queue()
        self.connack: queue.Queue = queue.Queue()
        self.subacks: queue.Queue = queue.Queue()
        self.disconnected = threading.Event()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        if username is not None:
            client.username_pw_set(username, password)
        client.on_connect = lambda c, u, f, reason, p: self.connack.put(reason)
        client.on_subscribe = lambda c, u, mid, reasons, p: self.subacks.put(reasons)
        client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload)))
        client.on_disconnect = lambda c, u, f, reason, p: self.disconnected.set()
        client.connect("127.0.0.1", port, keepalive=30)
        client.loop_start()
        self.client = client
        self.reason = self.connack.get(timeout=10)

    def subscribe(self, *topics: str) -> list[bool]:
        """Subscribe; whether each topic was granted."""
        self.client.subscribe([(t, 1) for t in topics])
        return [not reason.is_failure for reason in self.subacks.get(timeout=10)]

    def received(self, count: int, timeout: float = 10) -> list[tuple[str, dict]]:
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            out.append(self.messages.get(timeout=max(deadline - time.monotonic(), 0.01)))
        return out

    def silent(self, seconds: float = 1.0) -> bool:
        time.sleep(seconds)
        return self.messages.empty()

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(endpoint):
    made = []

    def make(user=None, password=None) -> Subscriber:
        if user is not None and password is None:
            _, password = ApiToken.objects.issue(user, "mqtt")
        subscriber = Subscriber(endpoint.port, user.username if user else None, password)
        made.append(subscriber)
        return subscriber

    yield make
    for subscriber in made:
        subscriber.close()


def ingest(node, quantity, value, minutes_ago=1):
    """One value through the ingest pipeline (what HTTP and MQTT ingest run)."""
    ts = (timezone.now() - timedelta(minutes=minutes_ago)).replace(microsecond=0)
    samples.ingest(node, quantity, ts, value, "test")
    return ts


def test_each_user_hears_exactly_what_get_shows_him(world, sta, connect, client_for):
    ds_a = sta.datastream(world.node_a, sta.co2)
    alice, charlie, public = connect(world.alice), connect(world.charlie), connect()
    assert alice.reason == 0 and charlie.reason == 0 and public.reason == 0
    mine = f"v1.1/Datastreams({ds_a.pk})/Observations"
    assert alice.subscribe(mine, "v1.1/Observations") == [True, True]
    # Another organization's Datastream is refused as a missing one is.
    assert charlie.subscribe(mine, "v1.1/Datastreams(999999)/Observations") == [False, False]
    assert charlie.subscribe("v1.1/Observations") == [True]
    assert public.subscribe(mine, "v1.1/Observations") == [False, True]

    ingest(world.node_a, sta.co2, 420)
    ingest(world.node_b, sta.co2, 620)
    ingest(world.public_node, sta.co2, 520)

    heard = alice.received(3)  # hers twice (both topics), the public node's once
    assert sorted((t, m["result"]) for t, m in heard) == [
        (mine, 420),
        ("v1.1/Observations", 420),
        ("v1.1/Observations", 520),
    ]
    for _, message in heard:  # the very entity GET answers
        got = client_for(world.alice).get(message["@iot.selfLink"].replace("http://testserver", ""))
        assert got.status_code == 200 and got.json() == message
    # Charlie: his own and, as everybody, the public installation's (not alice's 420).
    assert sorted(m["result"] for _, m in charlie.received(2)) == [520, 620]
    assert [m["result"] for _, m in public.received(1)] == [520]
    assert alice.silent() and charlie.silent(0.1) and public.silent(0.1)


def test_select_in_the_topic_and_rest_posts_reach_subscribers(world, sta, connect, client_for):
    ds_a = sta.datastream(world.node_a, sta.co2)
    alice = connect(world.alice)
    topic = f"v1.1/Datastreams({ds_a.pk})/Observations?$select=result,phenomenonTime"
    text = f"v1.1/Datastreams({sta.text_stream.pk})/Observations"
    assert alice.subscribe(topic, text) == [True, True]
    when = (timezone.now() - timedelta(minutes=2)).replace(microsecond=0)
    api = client_for(world.alice)
    for datastream, result in ((ds_a, 430), (sta.text_stream, {"sky": "blue"})):
        answer = api.post(
            "/sta/v1.1/Observations",
            {
                "result": result,
                "phenomenonTime": when.isoformat(),
                "Datastream": {"@iot.id": datastream.pk},
            },
            format="json",
        )
        assert answer.status_code == 201, answer.content
    heard = dict(alice.received(2))
    assert heard[topic] == {
        "result": 430,
        "phenomenonTime": when.isoformat().replace("+00:00", "Z"),
    }
    assert heard[text]["result"] == {"sky": "blue"}
    assert (
        heard[text]
        == client_for(world.alice)
        .get(heard[text]["@iot.selfLink"].replace("http://testserver", ""))
        .json()
    )


@pytest.mark.parametrize(
    "topic",
    [
        "v1.1/#",
        "#",
        "v1.1/+/Observations",
        "+/Observations",
        "$SYS/#",
        "v1.1/Observations?$filter=result gt",  # malformed: GET answers 400
        "v1.1/Observations?$filter=nothing eq 1",
        "v1.1/Observations?$orderby=result",
        "v1.1/Observations?$filter=result gt 1&$filter=result gt 2",
        "v1.1/Things(1)?$filter=name eq 'x'",  # a single entity
        "v1.1/Things(1)/name?$filter=name eq 'x'",
        "Observations",
        "v1.1/Datastreams(1)/Observations/$ref",
        "v1.1/Things(1)/name/$value",
        "v1.1/Things(1)/properties/owner",
        "v1.1/Things(1)/name?$select=name",
        "v1.1/Things(999999)",  # missing (and another organization's alike, below)
    ],
)
def test_wildcards_and_other_topics_are_refused(world, sta, connect, topic):
    assert connect(world.alice).subscribe(topic) == [False]


def test_wrong_token_and_password_are_refused(world, connect):
    assert connect(world.alice, "sg_not-a-token").reason == BAD_LOGIN
    _, charlies = ApiToken.objects.issue(world.charlie, "x")
    assert connect(world.alice, charlies).reason == BAD_LOGIN  # another user's token
    assert connect(world.alice, "alice-password").reason == BAD_LOGIN  # passwords are not taken


def test_a_revoked_token_disconnects_the_subscriber(world, sta, connect):
    token, key = ApiToken.objects.issue(world.alice, "mqtt")
    alice = connect(world.alice, key)
    assert alice.subscribe("v1.1/Observations") == [True]
    token.delete()
    assert alice.disconnected.wait(5)
    assert connect(world.alice, key).reason == BAD_LOGIN


def test_a_datastream_moved_to_another_organization_goes_quiet(world, sta, connect):
    ds_a = sta.datastream(world.node_a, sta.co2)
    alice, charlie = connect(world.alice), connect(world.charlie)
    assert alice.subscribe(f"v1.1/Datastreams({ds_a.pk})/Observations", "v1.1/Observations")
    assert charlie.subscribe("v1.1/Observations") == [True]
    world.node_a.organization = world.org_b
    world.node_a.save()
    ingest(world.node_a, sta.co2, 440)
    assert [m["result"] for _, m in charlie.received(1)] == [440]
    assert alice.silent()


def test_mqtt_create_by_an_owner_and_not_by_an_inspector(world, sta, connect, client_for):
    ds_a = sta.datastream(world.node_a, sta.co2)
    topic = f"v1.1/Datastreams({ds_a.pk})/Observations"
    alice, bob = connect(world.alice), connect(world.bob)
    assert alice.subscribe(topic) == [True]
    when = (timezone.now() - timedelta(minutes=3)).replace(microsecond=0)
    body = {"result": 450, "phenomenonTime": when.isoformat()}
    bob.client.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)
    assert alice.silent()
    alice.client.publish(topic, json.dumps(body), qos=1).wait_for_publish(5)
    ((_, created),) = alice.received(1)
    assert created["result"] == 450
    count = client_for(world.alice).get(f"/sta/v1.1/{topic[5:]}?$filter=result eq 450&$count=true")
    assert count.json()["@iot.count"] == 1
    # v1.1/Observations with the Datastream in the body; anonymous may not.
    body2 = {
        "result": 451,
        "phenomenonTime": (when + timedelta(seconds=1)).isoformat(),
        "Datastream": {"@iot.id": ds_a.pk},
    }
    connect().client.publish("v1.1/Observations", json.dumps(body2), qos=1).wait_for_publish(5)
    assert alice.silent()
    alice.client.publish("v1.1/Observations", json.dumps(body2), qos=1).wait_for_publish(5)
    assert [m["result"] for _, m in alice.received(1)] == [451]


def test_new_datastreams_of_a_thing(world, sta, connect, client_for):
    alice, charlie = connect(world.alice), connect(world.charlie)
    topic = f"v1.1/Things({world.node_a.pk})/Datastreams"
    assert alice.subscribe(topic) == [True]
    assert charlie.subscribe(topic) == [False]
    answer = client_for(world.alice).post(
        f"/sta/v1.1/Things({world.node_a.pk})/Datastreams",
        {
            "name": "wind",
            "description": "wind speed",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "m/s", "symbol": "m/s", "definition": ""},
            "Sensor": {"@iot.id": sta.text_stream.sensor_id},
            "ObservedProperty": {"@iot.id": sta.text_stream.observed_property_id},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    ((_, heard),) = alice.received(1)
    assert heard == answer.json()


def test_the_service_document_declares_the_extension_with_its_endpoint(settings, client):
    settings.SENSORGRID_STA_MQTT_PORT = 1884
    document = client.get("/sta/v1.1/").json()["serverSettings"]
    receive = (
        "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates"
    )
    assert receive in document["conformance"]
    assert document[receive] == {"endpoints": ["mqtt://testserver:1884"]}
    settings.SENSORGRID_STA_MQTT_PORT = 0
    assert receive not in client.get("/sta/v1.1/").json()["serverSettings"]["conformance"]


@pytest.fixture
def redis_layer(settings):
    """The production channel layer (Redis Pub/Sub) on a throwaway redis-server."""
    redis = Redis().start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [redis.url], "prefix": "test-sta-mqtt"},
        }
    }
    yield redis
    redis.stop()


def test_through_redis_as_from_an_ingest_process(world, sta, redis_layer):
    """With Redis, the feed publishes to the group every web process's server joins (here
    the same process, but only through Redis: no server is registered locally)."""
    ds_a = sta.datastream(world.node_a, sta.co2)
    with running_server() as server:
        assert feed.local is None
        _, key = ApiToken.objects.issue(world.alice, "mqtt")
        alice = Subscriber(server.port, "alice", key)
        try:
            name = f"v1.1/Things({world.node_a.pk})/name"
            assert alice.subscribe(f"v1.1/Datastreams({ds_a.pk})/Observations", name) == [
                True,
                True,
            ]
            time.sleep(0.5)  # the server's group subscription is made in its loop
            ingest(world.node_a, sta.co2, 460)
            assert [m["result"] for _, m in alice.received(1)] == [460]
            write.update("Things", world.node_a, {"name": "via redis"}, user=world.alice)
            assert alice.received(1) == [(name, {"name": "via redis"})]
        finally:
            alice.close()


def test_a_new_series_is_announced_as_a_new_datastream(world, sta, connect, client_for):
    from sensorgrid.inventory.models import Quantity

    alice, charlie = connect(world.alice), connect(world.charlie)
    assert alice.subscribe(f"v1.1/Things({world.node_a.pk})/Datastreams") == [True]
    assert charlie.subscribe("v1.1/Datastreams") == [True]
    ingest(world.node_a, Quantity.objects.get(key="humidity"), 41)
    ((_, heard),) = alice.received(1)
    api = client_for(world.alice)
    got = api.get(heard["@iot.selfLink"].replace("http://testserver", ""))
    assert got.status_code == 200 and got.json() == heard
    link = heard["ObservedProperty@iot.navigationLink"].replace("http://testserver", "")
    assert api.get(link).json()["definition"].endswith("/humidity")
    assert charlie.silent()


def test_create_observations_of_both_stores_are_announced(world, sta, connect, client_for):
    ds_a = sta.datastream(world.node_a, sta.co2)
    alice = connect(world.alice)
    assert alice.subscribe("v1.1/Observations?$select=result") == [True]
    when = (timezone.now() - timedelta(minutes=5)).replace(microsecond=0)
    times = [(when + timedelta(seconds=n)).isoformat() for n in range(2)]
    answer = client_for(world.alice).post(
        "/sta/v1.1/CreateObservations",
        [
            {
                "Datastream": {"@iot.id": datastream.pk},
                "components": ["phenomenonTime", "result"],
                "dataArray": [[times[0], first], [times[1], second]],
            }
            for datastream, first, second in ((ds_a, 470, 471), (sta.text_stream, "a", "b"))
        ],
        format="json",
    )
    assert answer.status_code == 201, answer.content
    heard = sorted(str(m["result"]) for _, m in alice.received(4))
    assert heard == ["470", "471", "a", "b"]


def test_malformed_clients_are_closed_and_mqtt5_is_refused(endpoint):
    import socket

    def exchange(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
            sock.sendall(data)
            chunks = []
            while chunk := sock.recv(1024):  # until the server closes
                chunks.append(chunk)
            return b"".join(chunks)

    def connect_packet(protocol: bytes, level: int) -> bytes:
        body = len(protocol).to_bytes(2, "big") + protocol + bytes([level, 0x02, 0, 30])
        body += (0).to_bytes(2, "big")  # empty client id, clean session
        return bytes([0x10, len(body)]) + body

    assert exchange(connect_packet(b"MQTT", 5)) == bytes([0x20, 2, 0, 1])  # bad protocol
    assert exchange(bytes([0x82, 5, 0, 1, 0, 0, 0])) == b""  # SUBSCRIBE before CONNECT
    assert exchange(bytes([0x10, 0xFF, 0xFF, 0xFF, 0x7F])) == b""  # a 256 MB packet
    assert exchange(connect_packet(b"MQTT", 4) + bytes([0x60, 2, 0, 1])) == bytes(
        [0x20, 2, 0, 0]  # accepted; then a PUBREL with the wrong flags closes it
    )
    # a PUBREL of a publish it does not know is completed all the same (MQTT 3.1.1 §4.3.3)
    assert exchange(connect_packet(b"MQTT", 4) + bytes([0x62, 2, 0, 1, 0xE0, 0])) == bytes(
        [0x20, 2, 0, 0, 0x70, 2, 0, 1]
    )


def test_stopping_closes_every_connection_and_leaves_no_task_behind(world, sta):
    import socket

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = Server("127.0.0.1", 0, BASE)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    _, password = ApiToken.objects.issue(world.alice, "mqtt")
    subscriber = Subscriber(server.port, "alice", password)
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=5)  # no CONNECT

    async def pending():
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    try:
        assert subscriber.subscribe("v1.1/Observations") == [True]
        assert len(asyncio.run_coroutine_threadsafe(pending(), loop).result(5)) >= 4
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        assert asyncio.run_coroutine_threadsafe(pending(), loop).result(5) == []
        assert silent.recv(16) == b""  # closed by the server
        assert subscriber.disconnected.wait(5)
    finally:
        silent.close()
        subscriber.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_the_public_hears_a_public_node_only_within_its_public_period(world, sta, connect):
    from tests.sensorthings.conftest import BEFORE_PUBLIC

    ingest(world.public_node, sta.co2, 529, minutes_ago=10)  # its series' Datastream
    mirror.ensure()
    alice, public = connect(world.alice), connect()
    topic = f"v1.1/Datastreams({sta.datastream(world.public_node, sta.co2).pk})/Observations"
    assert alice.subscribe(topic) == [True] and public.subscribe(topic) == [True]
    # Before the public installation began (2026-01-01): its organization's only.
    samples.ingest(world.public_node, sta.co2, BEFORE_PUBLIC.replace(hour=13), 530, "test")
    assert [m["result"] for _, m in alice.received(1)] == [530]
    assert public.silent()
    ingest(world.public_node, sta.co2, 531)
    assert [m["result"] for _, m in public.received(1)] == [531]


def test_the_public_cannot_take_the_places_of_signed_in_users(world, connect, monkeypatch):
    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(server_module, "MAX_ANONYMOUS", 2)
    public = [connect().reason for _ in range(3)]
    assert [reason.is_failure for reason in public] == [False, False, True]
    assert str(public[2]) == "Server unavailable"
    assert not connect(world.alice).reason.is_failure
    assert not connect(world.bob).reason.is_failure


def test_silent_sockets_and_clients_that_never_ping_are_closed(endpoint, monkeypatch):
    import socket

    monkeypatch.setattr(server_module, "MAX_CONNECTING", 3)
    monkeypatch.setattr(server_module, "MAX_KEEP_ALIVE", 1)
    silent = [socket.create_connection(("127.0.0.1", endpoint.port)) for _ in range(3)]
    # the fourth socket that sends nothing is closed at once, unread
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as flood:
        assert flood.recv(16) == b""
    for sock in silent:
        sock.close()
    # a client asking for no keep-alive (0) is closed when silent for 1.5 × MAX_KEEP_ALIVE
    body = (4).to_bytes(2, "big") + b"MQTT" + bytes([4, 0x02, 0, 0]) + (0).to_bytes(2, "big")
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as idle:
        idle.sendall(bytes([0x10, len(body)]) + body)
        assert idle.recv(4) == bytes([0x20, 2, 0, 0])  # accepted
        assert idle.recv(16) == b""  # then closed by the server, well before the timeout


def test_new_entities_of_every_set_reach_their_set_select_and_navigation_topics(
    world, sta, connect, client_for
):
    """OGC 18-088 §14.2 (FROST's MqttCoreTests check01a, check04, check08a): a deep
    insert announces each entity it makes, the HistoricalLocation the service adds
    included; each message is the entity GET shows (or its $select); another
    organization and the public hear nothing of it."""
    sets = [
        "Things",
        "Locations",
        "HistoricalLocations",
        "Sensors",
        "ObservedProperties",
        "FeaturesOfInterest",
        "Datastreams",
    ]
    alice, charlie, public = connect(world.alice), connect(world.charlie), connect()
    selected = "v1.1/Things?$select=name,description"
    assert alice.subscribe(*[f"v1.1/{name}" for name in sets], selected) == [True] * 8
    assert charlie.subscribe(*[f"v1.1/{name}" for name in sets]) == [True] * 7
    assert public.subscribe(*[f"v1.1/{name}" for name in sets]) == [True] * 7
    api = client_for(world.alice)
    body = {
        "name": "Weather station",
        "description": "On the roof",
        "Locations": [
            {
                "name": "Roof",
                "description": "Building 4",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [8.4, 49.0]},
            }
        ],
        "Datastreams": [
            {
                "name": "wind",
                "description": "wind speed",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "m/s", "symbol": "m/s", "definition": ""},
                "Sensor": {
                    "name": "cup",
                    "description": "anemometer",
                    "encodingType": "text/plain",
                    "metadata": "cup",
                },
                "ObservedProperty": {
                    "name": "wind",
                    "definition": "https://example.org/wind",
                    "description": "wind speed",
                },
            }
        ],
    }
    answer = api.post("/sta/v1.1/Things", body, format="json")
    assert answer.status_code == 201, answer.content
    feature = api.post(
        "/sta/v1.1/FeaturesOfInterest",
        {
            "name": "field",
            "description": "a field",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [8.5, 49.1]},
        },
        format="json",
    )
    assert feature.status_code == 201, feature.content
    heard = dict(alice.received(8))
    for name in sets:
        message = heard[f"v1.1/{name}"]
        got = api.get(message["@iot.selfLink"].replace("http://testserver", ""))
        assert got.status_code == 200 and got.json() == message, name
    assert heard["v1.1/Things"] == answer.json()
    assert heard["v1.1/FeaturesOfInterest"] == feature.json()
    assert heard[selected] == {"name": "Weather station", "description": "On the roof"}
    assert alice.silent() and charlie.silent(0.1) and public.silent(0.1)


def test_updates_reach_the_entity_its_changed_properties_and_its_collections(
    world, sta, connect, client_for
):
    """FROST's MqttCoreTests check02/03 and check09-13: after a PATCH or PUT the entity's
    topic gets the entity as GET shows it, the topic of each property whose value changed
    gets ``{"property": value}`` (an unchanged one nothing), and the collections holding
    it (its set, a $select of it, a navigation) get it too."""
    ds_a = sta.text_stream
    thing = f"v1.1/Things({world.node_a.pk})"
    datastream = f"v1.1/Datastreams({ds_a.pk})"
    alice = connect(world.alice)
    topics = [
        thing,
        f"{thing}/name",
        f"{thing}/description",
        "v1.1/Things?$select=name",
        f"{datastream}/Thing",
        f"{thing}/Datastreams",
        f"{datastream}/unitOfMeasurement",
    ]
    assert alice.subscribe(*topics) == [True] * len(topics)
    api = client_for(world.alice)
    answer = api.patch(f"/sta/{thing}", {"name": "renamed"}, format="json")
    assert answer.status_code == 200, answer.content
    heard = dict(alice.received(4))
    got = api.get(f"/sta/{thing}").json()
    assert heard[thing] == got and heard[f"{datastream}/Thing"] == got
    assert got["name"] == "renamed"
    assert heard[f"{thing}/name"] == {"name": "renamed"}
    assert heard["v1.1/Things?$select=name"] == {"name": "renamed"}
    assert alice.silent()  # the description did not change

    # PUT: what it leaves out is reset; only the changed properties are announced.
    answer = api.put(
        f"/sta/{datastream}",
        {
            "name": ds_a.name,
            "description": "now described",
            "observationType": ds_a.observation_type,
            "unitOfMeasurement": {"name": "sky", "symbol": "", "definition": "x"},
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    heard = dict(alice.received(2))
    got = api.get(f"/sta/{datastream}").json()
    assert heard[f"{thing}/Datastreams"] == got
    assert heard[f"{datastream}/unitOfMeasurement"] == {
        "unitOfMeasurement": {"name": "sky", "symbol": "", "definition": "x"}
    }
    assert alice.silent()


def test_updates_stay_behind_the_walls(world, sta, connect, client_for):
    """Charlie cannot subscribe to alice's Thing, and on his collections hears nothing of
    its update; the public hears the update of a public Thing only."""
    mine = f"v1.1/Things({world.node_a.pk})"
    public_thing = f"v1.1/Things({world.public_node.pk})"
    alice, charlie, public = connect(world.alice), connect(world.charlie), connect()
    assert charlie.subscribe(mine, f"{mine}/name") == [False, False]
    assert charlie.subscribe("v1.1/Things", public_thing) == [True, True]
    assert public.subscribe(mine, public_thing, "v1.1/Things") == [False, True, True]
    assert alice.subscribe(mine) == [True]
    api = client_for(world.alice)
    assert api.patch(f"/sta/{mine}", {"name": "hidden"}, format="json").status_code == 200
    ((_, heard),) = alice.received(1)
    assert heard["name"] == "hidden"
    assert charlie.silent(0.5) and public.silent(0.1)
    answer = api.patch(f"/sta/{public_thing}", {"description": "open"}, format="json")
    assert answer.status_code == 200, answer.content
    anonymous = client_for(None).get(f"/sta/{public_thing}").json()
    assert sorted(topic for topic, _ in public.received(2)) == sorted([public_thing, "v1.1/Things"])
    assert [m for _, m in charlie.received(2)] == [anonymous, anonymous]


def test_what_the_service_makes_itself_and_an_observation_update_are_announced(
    world, sta, connect, client_for
):
    """FROST's check01b (the FeatureOfInterest generated for an Observation), check14 (the
    HistoricalLocation recorded when a Thing's Locations change) and a PATCH of an
    Observation on its own and its result's topic."""
    api = client_for(world.alice)
    point = {"type": "Point", "coordinates": [8.4, 49.0]}
    made = api.post(
        "/sta/v1.1/Things",
        {
            "name": "buoy",
            "description": "in the lake",
            "Locations": [
                {
                    "name": "pier",
                    "description": "",
                    "encodingType": "application/geo+json",
                    "location": point,
                }
            ],
            "Datastreams": [
                {
                    "name": "state",
                    "description": "",
                    "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation",
                    "unitOfMeasurement": {"name": "", "symbol": "", "definition": ""},
                    "Sensor": {"@iot.id": sta.text_stream.sensor_id},
                    "ObservedProperty": {"@iot.id": sta.text_stream.observed_property_id},
                }
            ],
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    thing = made.json()["@iot.id"]
    (datastream,) = api.get(f"/sta/v1.1/Things({thing})/Datastreams").json()["value"]
    alice, charlie = connect(world.alice), connect(world.charlie)
    assert alice.subscribe("v1.1/FeaturesOfInterest", "v1.1/HistoricalLocations") == [True] * 2
    assert charlie.subscribe("v1.1/FeaturesOfInterest", "v1.1/HistoricalLocations") == [True] * 2
    posted = api.post(
        f"/sta/v1.1/Datastreams({datastream['@iot.id']})/Observations",
        {"result": "calm", "phenomenonTime": "2026-03-01T10:00:00Z"},
        format="json",
    )
    assert posted.status_code == 201, posted.content
    ((topic, feature),) = alice.received(1)
    observation = posted.json()["@iot.id"]
    assert topic == "v1.1/FeaturesOfInterest"
    assert feature == api.get(f"/sta/v1.1/Observations({observation})/FeatureOfInterest").json()

    other = api.post(
        "/sta/v1.1/Locations",
        {
            "name": "shore",
            "description": "",
            "encodingType": "application/geo+json",
            "location": point,
        },
        format="json",
    )
    assert other.status_code == 201, other.content
    moved = api.patch(
        f"/sta/v1.1/Things({thing})",
        {"Locations": [{"@iot.id": other.json()["@iot.id"]}]},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    ((topic, historical),) = alice.received(1)
    newest = api.get(f"/sta/v1.1/Things({thing})/HistoricalLocations?$orderby=id desc&$top=1")
    assert topic == "v1.1/HistoricalLocations" and historical == newest.json()["value"][0]
    assert charlie.silent(0.5)

    one = f"v1.1/Observations({observation})"
    assert alice.subscribe(one, f"{one}/result", f"{one}/phenomenonTime") == [True] * 3
    assert api.patch(f"/sta/{one}", {"result": "stormy"}, format="json").status_code == 200
    heard = dict(alice.received(2))
    assert heard[one] == api.get(f"/sta/{one}").json()
    assert heard[f"{one}/result"] == {"result": "stormy"}
    assert alice.silent()


def test_an_updated_observation_of_either_store_is_heard_on_its_datastreams_topics(
    world, sta, connect, client_for
):
    """FROST's check07 for Observations: the collections that hold an updated
    Observation (its Datastream's, through its Thing) hear it, in both stores (a numeric
    one maybe twice: the PATCH stores a new sample, announced as such, beside the
    update; both are the entity GET shows)."""
    api = client_for(world.alice)
    numeric = sta.datastream(world.node_a, sta.co2)
    alice = connect(world.alice)
    topics = {
        datastream.pk: f"v1.1/Things({world.node_a.pk})/Datastreams({datastream.pk})/Observations"
        for datastream in (numeric, sta.text_stream)
    }
    assert alice.subscribe(*topics.values()) == [True, True]
    when = (timezone.now() - timedelta(minutes=7)).replace(microsecond=0).isoformat()
    for datastream, result in ((numeric, 401), (sta.text_stream, "windy")):
        made = api.post(
            f"/sta/v1.1/Datastreams({datastream.pk})/Observations",
            {"result": 0 if datastream is numeric else "calm", "phenomenonTime": when},
            format="json",
        )
        assert made.status_code == 201, made.content
        first = made.json()
        assert alice.received(1)[0][1]["@iot.id"] == first["@iot.id"]  # its creation
        assert alice.silent()
        answer = api.patch(
            f"/sta/v1.1/Observations({first['@iot.id']})", {"result": result}, format="json"
        )
        assert answer.status_code == 200, answer.content
        heard = alice.received(1)
        while not alice.silent():
            heard += alice.received(1)
        got = api.get(f"/sta/v1.1/Observations({first['@iot.id']})").json()
        assert got["result"] == result and 1 <= len(heard) <= 2
        assert heard == [(topics[datastream.pk], got)] * len(heard)


# --- what one client costs (security review): spellings, limits, logins ----------------------


def test_spellings_of_one_topic_cost_one_reading(world, sta, client_for):
    """However a topic is spelled ($select's order, spaces, parentheses in $filter), the
    users behind the same walls read it once per round: counted in SQL statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sensorgrid.sensorthings.mqtt import deliver, topics

    things = f"v1.1/Things({world.node_a.pk})/Datastreams"
    spellings = [
        "v1.1/Observations?$select=id,result",
        "v1.1/Observations?$select=result,id",
        "v1.1/Observations?$select=result, id",
        "v1.1/Observations?$select=id,result,id",
        "v1.1/Observations?$select=id,result&$filter=result gt 5",
        "v1.1/Observations?$filter=(result gt 5)&$select=result,id",
        "v1.1/Observations?$filter=result  gt  5&$select=id,result",
        things,
        things + "/",
    ]
    parsed = [topics.parse(text) for text in spellings]
    assert len({topic.reading for topic in parsed}) == 3
    ds_a = sta.datastream(world.node_a, sta.co2)
    when = (timezone.now() - timedelta(minutes=1)).replace(microsecond=0)
    answer = client_for(world.alice).post(
        "/sta/v1.1/Observations",
        {"result": 7, "phenomenonTime": when.isoformat(), "Datastream": {"@iot.id": ds_a.pk}},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    key = answer.json()["@iot.id"]
    message = {"changes": [("Observations", key, None), ("Datastreams", ds_a.pk, None)]}

    def statements(chosen: list) -> tuple[int, dict]:
        # alice and bob (an inspector of the same organization) behind the same walls
        wanted = {(user.pk, t.text): t for t in chosen for user in (world.alice, world.bob)}
        state = deliver.start_state()
        with CaptureQueriesContext(connection) as captured:
            heard = server_module._render(message, wanted, state, BASE)
        return len(captured.captured_queries), heard

    one = [parsed[0], parsed[4], parsed[7]]
    alone, heard_alone = statements(one)
    together, heard = statements(parsed)
    assert together == alone
    assert len(heard) == 2 * len(spellings)  # every subscription hears its message
    spelled = {topic.reading: topic.text for topic in one}
    for (user_id, text), messages in heard.items():
        reading = parsed[spellings.index(text)].reading
        assert messages == heard_alone[(user_id, spelled[reading])]
    assert {json.loads(m)["result"] for m in heard[(world.alice.pk, spellings[1])]} == {7}


def test_topics_beyond_the_limits_are_refused(world, sta, connect, endpoint, monkeypatch):
    monkeypatch.setattr(server_module, "MAX_SUBSCRIPTIONS", 4)
    monkeypatch.setattr(server_module, "MAX_ANONYMOUS_SUBSCRIPTIONS", 2)
    monkeypatch.setattr(server_module, "MAX_ANONYMOUS_READINGS", 3)
    monkeypatch.setattr(server_module, "MAX_READINGS", 5)
    first, second, third = connect(), connect(), connect()
    # per connection: the public's 2, a signed-in user's 4
    assert first.subscribe("v1.1/Things", "v1.1/Sensors", "v1.1/Locations") == [
        True,
        True,
        False,
    ]
    # on the server: the public's 3 distinct readings; another spelling costs nothing
    assert second.subscribe("v1.1/Observations?$select=id,result", "v1.1/Things/") == [
        True,
        True,
    ]
    assert third.subscribe("v1.1/Observations?$select=result,id", "v1.1/Datastreams") == [
        True,
        False,
    ]
    alice = connect(world.alice)
    # 5 readings in all: 3 of the public's, 2 of hers
    assert alice.subscribe("v1.1/Things", "v1.1/Sensors", "v1.1/Locations") == [
        True,
        True,
        False,
    ]
    first.close()  # its readings are shared or given back: Sensors is free again
    deadline = time.monotonic() + 10
    while len(endpoint.sessions) > 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # until the server has seen the DISCONNECT
    assert alice.subscribe("v1.1/Locations") == [True]
    alice.client.unsubscribe("v1.1/Things")
    assert alice.subscribe("v1.1/Sensors") == [True]  # answered after the UNSUBSCRIBE
    assert connect(world.bob).subscribe("v1.1/Datastreams") == [True]


def test_a_login_does_not_wait_for_a_delivery_round(world, connect, endpoint):
    """The thread that reads deliveries is busy (held here); a CONNECT is answered."""
    busy, release = threading.Event(), threading.Event()

    def hold():
        busy.set()
        release.wait(30)

    endpoint._db.submit(hold)
    assert busy.wait(10)
    try:
        assert not connect(world.alice).reason.is_failure
        assert not connect().reason.is_failure
    finally:
        release.set()


def test_a_qos2_publish_is_created_once_however_often_it_is_sent(world, sta, endpoint):
    """A QoS 2 PUBLISH sent again (DUP) before its PUBREL is not created twice; each
    is answered with PUBREC, the PUBREL with PUBCOMP (MQTT 3.1.1 §4.3.3)."""
    import socket
    import struct

    from sensorgrid.sensorthings.models import Observation

    ds = sta.text_stream
    _, key = ApiToken.objects.issue(world.alice, "mqtt")

    def string(text: str | bytes) -> bytes:
        data = text.encode() if isinstance(text, str) else text
        return struct.pack("!H", len(data)) + data

    def packet(first: int, body: bytes) -> bytes:
        assert len(body) < 128
        return bytes([first, len(body)]) + body

    connect_body = string("MQTT") + bytes([4, 0xC2, 0, 30]) + string("qos2")
    connect_body += string("alice") + string(key)
    topic = f"v1.1/Datastreams({ds.pk})/Observations"
    when = (timezone.now() - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    body = json.dumps({"result": "twice?", "phenomenonTime": when}).encode()
    publish = string(topic) + struct.pack("!H", 7) + body
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        sock.sendall(packet(0x10, connect_body))
        assert reader.read(4) == bytes([0x20, 2, 0, 0])
        sock.sendall(packet(0x34, publish))
        assert reader.read(4) == bytes([0x50, 2, 0, 7])  # PUBREC
        sock.sendall(packet(0x3C, publish))  # again, DUP set
        assert reader.read(4) == bytes([0x50, 2, 0, 7])
        sock.sendall(packet(0x62, struct.pack("!H", 7)))
        assert reader.read(4) == bytes([0x70, 2, 0, 7])  # PUBCOMP
        # the id is free again: a new publish with it is a new Observation
        sock.sendall(packet(0x34, publish.replace(b"twice?", b"again!")))
        assert reader.read(4) == bytes([0x50, 2, 0, 7])
        sock.sendall(packet(0x62, struct.pack("!H", 7)) + bytes([0xE0, 0]))
        assert reader.read(4) == bytes([0x70, 2, 0, 7])
    results = list(Observation.objects.filter(datastream=ds).values_list("result", flat=True))
    assert results.count("twice?") == 1 and results.count("again!") == 1


def test_a_qos2_publish_and_subscription_with_paho(world, sta, connect):
    """As FROST's tests do: subscribe and publish (MQTT Create) with QoS 2."""
    ds_a = sta.datastream(world.node_a, sta.co2)
    topic = f"v1.1/Datastreams({ds_a.pk})/Observations"
    alice = connect(world.alice)
    alice.client.subscribe(topic, qos=2)
    assert [reason.value for reason in alice.subacks.get(timeout=10)] == [0]  # granted: 0
    when = (timezone.now() - timedelta(minutes=1)).replace(microsecond=0)
    body = {"result": 452, "phenomenonTime": when.isoformat()}
    info = alice.client.publish(topic, json.dumps(body), qos=2)
    info.wait_for_publish(10)  # completed: PUBREC, PUBREL, PUBCOMP
    assert info.is_published()
    assert [m["result"] for _, m in alice.received(1)] == [452]
    assert alice.silent() and not alice.disconnected.is_set()


# --- $filter in topics (FROST's extension; MqttExtraTests test02, test03) ---------------------


def test_a_filter_in_the_topic_chooses_the_observations_heard(world, sta, connect):
    """MqttExtraTests.test02: results 10, 5 and 0 on topics filtering result."""
    alice = connect(world.alice)
    filters = ["result gt 4", "result gt 5", "result ge 5"]
    assert alice.subscribe(*[f"v1.1/Observations?$filter={f}" for f in filters]) == [True] * 3
    for minutes, value in ((3, 10), (2, 5), (1, 0)):
        ingest(world.node_a, sta.co2, value, minutes_ago=minutes)
    heard = alice.received(5)
    assert alice.silent()
    by_topic: dict[str, list] = {}
    for topic, message in heard:
        by_topic.setdefault(topic.split("=", 1)[1], []).append(message["result"])
    assert {f: sorted(r) for f, r in by_topic.items()} == {
        "result gt 4": [5, 10],
        "result gt 5": [10],
        "result ge 5": [5, 10],
    }


def test_a_filter_on_related_entities_stays_behind_the_walls(world, sta, connect, client_for):
    """MqttExtraTests.test03 (a filter on a related entity's name), through the walls: a
    filter naming another organization's Thing hears nothing of it."""
    names = {
        node: client_for(world.root).get(f"/sta/v1.1/Things({node.pk})").json()["name"]
        for node in (world.node_a, world.node_b)
    }
    alice, charlie = connect(world.alice), connect(world.charlie)
    topic_a = f"v1.1/Observations?$filter=Datastream/Thing/name eq '{names[world.node_a]}'"
    topic_b = f"v1.1/Observations?$filter=startswith(Datastream/Thing/name,'{names[world.node_b]}')"
    assert alice.subscribe(topic_a, topic_b) == [True, True]
    assert charlie.subscribe(topic_a, topic_b) == [True, True]
    ingest(world.node_a, sta.co2, 481)
    ingest(world.node_b, sta.co2, 482)
    assert [(t, m["result"]) for t, m in alice.received(1)] == [(topic_a, 481)]
    assert [(t, m["result"]) for t, m in charlie.received(1)] == [(topic_b, 482)]
    assert alice.silent() and charlie.silent()
