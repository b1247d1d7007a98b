"""Devices at a real Mosquitto with dynamic security, SensorGrid's ingest service reading.

Each device logs in as its node (``node-<pk>``, its credential as the password) and may
publish only on its own topics; the ingest service logs in as its service account.
Mosquitto 2.0 closes a connection after refusing one of its publications, so each
refused publication here comes from a fresh connection.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from sensorgrid.brokerauth import accounts
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests import factories as f
from tests.brokerauth.probe import Probe
from tests.ingest.mqtt.conftest import eventually, running

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INGEST_PASSWORD = "ingest-secret"


def body(co2: float) -> str:
    ts = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    return json.dumps({"ts": ts.isoformat(), "values": {"co2": co2}})


@pytest.fixture
def fleet(dynsec, dynsec_broker, settings):
    """Nodes a1, a2 (org A) and b1 (org B) with broker accounts, the ingest service's too."""
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
    settings.SENSORGRID_MQTT_URL = dynsec_broker.url_for("sg-ingest", INGEST_PASSWORD)
    org_a, org_b = f.OrganizationFactory(), f.OrganizationFactory()
    nodes, passwords = {}, {}
    for device_id, organization in (("a1", org_a), ("a2", org_a), ("b1", org_b)):
        node = f.NodeFactory(
            device_id=device_id, organization=org_a if organization is org_a else org_b
        )
        passwords[node.broker_username] = node.issue_credential()
        node.save()
        nodes[device_id] = node
    dynsec.execute(accounts.diff(accounts.desired(), accounts.actual(dynsec), passwords).commands)

    def url(device_id: str, password: str | None = None) -> str:
        username = nodes[device_id].broker_username
        return dynsec_broker.url_for(username, password or passwords[username])

    return nodes, url


def connected(url: str, protocol: str = "5") -> Probe:
    probe = Probe(url, protocol=protocol)
    assert probe.connect(), probe.connect_reason
    return probe


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_device_stores_on_its_own_topic_and_nothing_on_anothers(fleet, dynsec_broker, protocol):
    nodes, url = fleet
    with running(dynsec_broker.url_for("sg-ingest", INGEST_PASSWORD)):
        device = connected(url("a1"), protocol)
        assert not device.publish("sensorgrid/a1/up", body(611))[1]
        device.close()
        eventually(lambda: Sample.objects.filter(node=nodes["a1"]).exists(), what="a1 stored")

        for victim in ("a2", "b1"):  # same organization, then another one
            device = connected(url("a1"), protocol)
            reason, refused = device.publish(f"sensorgrid/{victim}/up", body(999))
            if protocol == "5":
                assert (reason, refused) == ("Not authorized", True)  # PUBACK 0x87
            assert device.disconnected.wait(5), "Mosquitto ends the session of a refused publish"
            device.close()

        # a later message of b1 itself proves the ingester had time to see a forgery
        owner = connected(url("b1"), protocol)
        assert not owner.publish("sensorgrid/b1/up", body(420))[1]
        owner.close()
        eventually(lambda: Sample.objects.filter(node=nodes["b1"]).exists(), what="b1 stored")

    assert sorted(Sample.objects.values_list("node__device_id", "value")) == [
        ("a1", 611.0),
        ("b1", 420.0),
    ]
    assert not DeadLetter.objects.exists()


@pytest.mark.parametrize("topic", ["#", "sensorgrid/+/up", "sensorgrid/a2/up", "sensorgrid/a1/up"])
def test_a_device_may_not_subscribe(fleet, topic):
    _, url = fleet
    device = connected(url("a1"))
    assert device.subscribe(topic)[1], f"a device subscribed to {topic}"
    device.close()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_anonymous_and_wrong_passwords_get_no_session(fleet, dynsec_broker, protocol):
    _, url = fleet
    for refused in (
        dynsec_broker.url,
        url("a1", "sg_wrong"),
        url("a2", "sg_wrong"),
        dynsec_broker.url_for("node-a1", "x"),
    ):
        probe = Probe(refused, protocol=protocol)
        assert not probe.connect(), refused
        probe.close()


def test_sync_dry_run_lists_exactly_the_drift_and_sync_twice_is_in_sync(
    fleet, dynsec, capsys, settings
):
    nodes, _ = fleet
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    call_command("broker_sync")
    assert capsys.readouterr().out.strip() == "in sync"

    a1, a2, b1 = (
        nodes["a1"].broker_username,
        nodes["a2"].broker_username,
        nodes["b1"].broker_username,
    )
    dynsec.execute(
        [
            {"command": "deleteClient", "username": a2},  # lost at the broker
            {"command": "modifyRole", "rolename": a1, "acls": []},  # ACLs drifted
            {"command": "enableClient", "username": b1},  # no change: enabled already
            {"command": "createClient", "username": "node-99999", "password": "x"},  # stray
            {"command": "createClient", "username": "operator", "password": "x"},  # not ours
        ]
    )
    call_command("broker_sync", "--dry-run")
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"change role {a1}: +publishClientSend sensorgrid/a1/up",
        f"create client {a2}: disabled",
        "delete client node-99999",
    ]
    assert out[3].startswith("3 change(s)") and "dry run" in out[3]
    assert out[4] == (
        f"1 node(s) stay disabled at the broker, no password known ({a2}): "
        "rotate the credential to connect"
    )

    call_command("broker_sync", "--dry-run")  # a dry run changed nothing
    assert capsys.readouterr().out.splitlines()[:3] == out[:3]

    call_command("broker_sync")
    assert capsys.readouterr().out.splitlines()[3].endswith("applied")
    call_command("broker_sync")
    assert capsys.readouterr().out.splitlines()[0] == "in sync"
    clients = dynsec.run({"command": "listClients", "count": -1})["clients"]
    assert "operator" in clients and "admin" in clients and "node-99999" not in clients
