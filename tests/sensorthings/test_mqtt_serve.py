"""The SensorThings MQTT endpoint of a running ``sensorgrid serve`` (demo data, SQLite,
the in-memory channel layer): values sent by devices through HTTP ingest reach paho
subscribers as the Observations GET shows each of them, through the organization walls.
"""

import json
import queue
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest
import requests

from tests.dashboard.liveserver import PASSWORD, SensorGridServer
from tests.servers import free_port

RECEIVE = "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = SensorGridServer(tmp_path_factory.mktemp("sta-mqtt"))
    running.load_demo()
    running.load_demo = lambda: None  # the demo template of the other server tests
    running.mqtt_port = free_port()
    running.environment.update(
        {"SENSORGRID_STA_MQTT_PORT": str(running.mqtt_port), "SENSORGRID_BASE_URL": running.base}
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def token(server, username: str) -> str:
    answer = requests.post(
        f"{server.base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}
    )
    return answer.json()["token"]


def subscriber(server, username: str | None, topic: str) -> queue.Queue:
    heard: queue.Queue = queue.Queue()
    granted: queue.Queue = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    if username:
        client.username_pw_set(username, token(server, username))
    client.on_message = lambda c, u, m: heard.put(json.loads(m.payload))
    client.on_subscribe = lambda c, u, mid, reasons, p: granted.put(reasons)
    client.on_connect = lambda c, u, f, reason, p: c.subscribe(topic, qos=1)
    client.connect("127.0.0.1", server.mqtt_port)
    client.loop_start()
    assert not granted.get(timeout=10)[0].is_failure
    return heard


def credential(server, owner: str, device_id: str) -> str:
    api = {"Authorization": f"Token {token(server, owner)}"}
    nodes = requests.get(f"{server.base}/api/v1/nodes/?page_size=500", headers=api).json()
    rows = nodes["results"] if isinstance(nodes, dict) else nodes
    (node,) = [n for n in rows if n["device_id"] == device_id]
    answer = requests.post(
        f"{server.base}/api/v1/nodes/{node['id']}/rotate-credential/", headers=api
    )
    return answer.json()["credential"]


def test_device_values_reach_each_subscriber_as_get_shows_them(server):
    root = requests.get(f"{server.base}/sta/v1.1/").json()["serverSettings"]
    assert RECEIVE in root["conformance"]
    assert root[RECEIVE]["endpoints"] == [f"mqtt://127.0.0.1:{server.mqtt_port}"]
    devices = {
        "demo-co2-001": credential(server, "alice", "demo-co2-001"),  # public installation
        "demo-co2-002": credential(server, "alice", "demo-co2-002"),
        "demo-co2-102": credential(server, "charlie", "demo-co2-102"),
    }
    alice = subscriber(server, "alice", "v1.1/Observations")
    charlie = subscriber(server, "charlie", "v1.1/Observations")
    public = subscriber(server, None, "v1.1/Observations?$select=result")
    when = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    for n, (device, key) in enumerate(devices.items()):
        answer = requests.post(
            f"{server.base}/api/v1/ingest/",
            headers={"Authorization": f"Bearer {key}"},
            json={"device": device, "ts": when.isoformat(), "values": {"co2": 700 + n}},
        )
        assert answer.status_code in (200, 201, 202), answer.text

    def results(heard: queue.Queue, count: int) -> list:
        out = [heard.get(timeout=15) for _ in range(count)]
        time.sleep(1)
        assert heard.empty()
        return out

    seen_by_alice = results(alice, 2)
    assert sorted(m["result"] for m in seen_by_alice) == [700, 701]
    alice_api = {"Authorization": f"Token {token(server, 'alice')}"}
    for message in seen_by_alice:
        assert requests.get(message["@iot.selfLink"], headers=alice_api).json() == message
    assert sorted(m["result"] for m in results(charlie, 2)) == [700, 702]
    assert results(public, 1) == [{"result": 700}]


def test_a_patch_reaches_the_things_topics_and_not_another_organization(server):
    alice_api = {"Authorization": f"Token {token(server, 'alice')}"}
    charlie_api = {"Authorization": f"Token {token(server, 'charlie')}"}
    things = requests.get(f"{server.base}/sta/v1.1/Things", headers=alice_api).json()["value"]
    visible_to_charlie = {
        t["@iot.id"]
        for t in requests.get(f"{server.base}/sta/v1.1/Things", headers=charlie_api).json()["value"]
    }
    (key,) = [t["@iot.id"] for t in things if t["@iot.id"] not in visible_to_charlie][:1]
    entity = subscriber(server, "alice", f"v1.1/Things({key})")
    name = subscriber(server, "alice", f"v1.1/Things({key})/name")
    charlie = subscriber(server, "charlie", "v1.1/Things")
    public = subscriber(server, None, "v1.1/Things")
    answer = requests.patch(
        f"{server.base}/sta/v1.1/Things({key})", headers=alice_api, json={"name": "renamed"}
    )
    assert answer.status_code == 200, answer.text
    got = requests.get(f"{server.base}/sta/v1.1/Things({key})", headers=alice_api).json()
    assert entity.get(timeout=15) == got
    assert name.get(timeout=15) == {"name": "renamed"}
    time.sleep(1)
    assert charlie.empty() and public.empty()


def test_an_observation_published_and_heard_with_qos_2(server):
    """FROST's MQTT Create and subscription tests (Capability7Tests, MqttHelper2) use QoS 2
    for both: the publish completes (PUBREC, PUBREL, PUBCOMP), its Observation is made
    once, and the subscription asking for QoS 2 is granted (at QoS 0, what is sent)."""
    alice_api = {"Authorization": f"Token {token(server, 'alice')}"}
    charlie_api = {"Authorization": f"Token {token(server, 'charlie')}"}
    hidden = {
        d["@iot.id"]
        for d in requests.get(f"{server.base}/sta/v1.1/Datastreams", headers=charlie_api).json()[
            "value"
        ]
    }
    datastreams = requests.get(f"{server.base}/sta/v1.1/Datastreams", headers=alice_api).json()
    key = next(d["@iot.id"] for d in datastreams["value"] if d["@iot.id"] not in hidden)
    topic = f"v1.1/Datastreams({key})/Observations"
    heard = subscriber(server, "alice", topic)  # asks for QoS 1 …
    granted: queue.Queue = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    client.username_pw_set("alice", token(server, "alice"))
    client.on_subscribe = lambda c, u, mid, reasons, p: granted.put(reasons)
    client.on_connect = lambda c, u, f, reason, p: c.subscribe(topic, qos=2)  # … this one 2
    client.connect("127.0.0.1", server.mqtt_port)
    client.loop_start()
    try:
        assert [reason.value for reason in granted.get(timeout=10)] == [0]
        when = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
        body = {"result": 4242, "phenomenonTime": when.isoformat()}
        info = client.publish(topic, json.dumps(body), qos=2)
        info.wait_for_publish(15)
        assert info.is_published() and client.is_connected()
        assert heard.get(timeout=15)["result"] == 4242
        made = requests.get(
            f"{server.base}/sta/{topic}?$filter=result eq 4242&$count=true", headers=alice_api
        ).json()
        assert made["@iot.count"] == 1
    finally:
        client.disconnect()
        client.loop_stop()
