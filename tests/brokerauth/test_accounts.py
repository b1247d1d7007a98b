"""A node's broker account: it logs in with its credential and publishes only as itself."""

import pytest

from sensorgrid.brokerauth import accounts
from sensorgrid.ingest.mqtt.routes import Route
from tests import factories as f
from tests.brokerauth.probe import Probe

pytestmark = pytest.mark.django_db

ROUTES = [Route("sensorgrid/{device}/up", "json"), Route("kpi/{device}/#", "kpi")]


@pytest.fixture
def routes(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json", "kpi/{device}/#=kpi"]
    settings.SENSORGRID_MQTT_URL = "mqtt://127.0.0.1:1883"  # no ingest account
    return ROUTES


def node_with_credential(device_id, organization=None):
    node = f.NodeFactory(device_id=device_id, organization=organization or f.OrganizationFactory())
    credential = node.issue_credential()
    node.save()
    return node, credential


def test_a_node_logs_in_with_its_credential_and_publishes_only_on_its_topics(dynsec, dynsec_broker):
    node, credential = node_with_credential("co2-1")
    dynsec.execute(accounts.node_commands(node, ROUTES, password=credential))
    url = dynsec_broker.url_for(node.broker_username, credential)

    device = Probe(url)
    assert device.connect()
    # success, or 0x10 "no matching subscribers" (MQTT 5 says so when nobody listens)
    assert not device.publish("sensorgrid/co2-1/up", "{}")[1]
    assert not device.publish("kpi/co2-1/co2", "400")[1]
    assert device.publish("sensorgrid/co2-2/up", "{}") == ("Not authorized", True)
    device.close()

    device = Probe(url)
    assert device.connect()
    assert device.subscribe("#") == ("Not authorized", True)
    device.close()


@pytest.mark.parametrize(
    ("username", "password"), [("", ""), ("node-1", "wrong"), ("admin", "wrong")]
)
def test_anonymous_and_wrong_passwords_are_refused(dynsec, dynsec_broker, username, password):
    node, credential = node_with_credential("co2-1")
    dynsec.execute(accounts.node_commands(node, ROUTES, password=credential))
    url = dynsec_broker.url_for(username, password) if username else dynsec_broker.url
    probe = Probe(url)
    assert not probe.connect()
    assert probe.connect_reason == "Not authorized"
    probe.close()


def test_without_a_known_password_a_new_client_is_disabled(dynsec, dynsec_broker, routes):
    node, credential = node_with_credential("co2-1")
    diff = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    assert diff.waiting == [node.broker_username]
    dynsec.execute(diff.commands)
    probe = Probe(dynsec_broker.url_for(node.broker_username, credential))
    assert not probe.connect()
    probe.close()
    # still waiting, but nothing to change: a second pass is in sync
    again = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    assert not again and again.waiting == [node.broker_username]
    # the password pending in the outbox makes it usable
    with_password = accounts.diff(
        accounts.desired(), accounts.actual(dynsec), {node.broker_username: credential}
    )
    dynsec.execute(with_password.commands)
    probe = Probe(dynsec_broker.url_for(node.broker_username, credential))
    assert probe.connect()
    probe.close()


def test_the_diff_lists_exactly_the_drift_and_leaves_the_admin_alone(dynsec, routes):
    one, credential_one = node_with_credential("co2-1")
    two, credential_two = node_with_credential("co2-2")
    passwords = {one.broker_username: credential_one, two.broker_username: credential_two}
    dynsec.execute(accounts.diff(accounts.desired(), accounts.actual(dynsec), passwords).commands)
    assert not accounts.diff(accounts.desired(), accounts.actual(dynsec))

    dynsec.execute(
        [
            {"command": "modifyRole", "rolename": one.broker_username, "acls": []},
            {"command": "disableClient", "username": two.broker_username},
            {"command": "createClient", "username": "node-999", "password": "x"},
            {"command": "createClient", "username": "someone-else", "password": "x"},
            {"command": "createRole", "rolename": "theirs"},
        ]
    )
    three, _ = node_with_credential("co2-3")
    two.credential_digest = ""  # disabled in SensorGrid too: stays disabled, no change
    two.save()

    drift = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    assert sorted(str(change).split(":")[0] for change in drift.changes) == sorted(
        [
            f"change role {one.broker_username}",
            f"create role {three.broker_username}",
            f"create client {three.broker_username}",
            "delete client node-999",
        ]
    )
    dynsec.execute(drift.commands)
    assert not accounts.diff(accounts.desired(), accounts.actual(dynsec))
    clients = dynsec.run({"command": "listClients", "count": -1})["clients"]
    assert {"admin", "someone-else"} <= set(clients) and "node-999" not in clients


def test_a_deleted_node_loses_its_client_and_role(dynsec, routes):
    node, credential = node_with_credential("co2-1")
    dynsec.execute(accounts.node_commands(node, password=credential))
    username = node.broker_username
    node.delete()
    drift = accounts.diff(accounts.desired(), accounts.actual(dynsec))
    assert sorted(map(str, drift.changes)) == [
        "change default publishClientReceive: deny",  # a fresh broker allows receiving
        f"delete client {username}",
        f"delete role {username}",
    ]
    dynsec.execute(drift.commands)
    assert not accounts.diff(accounts.desired(), accounts.actual(dynsec))


def test_the_ingest_service_may_subscribe_to_the_routes_shared_or_not(
    dynsec, dynsec_broker, settings, routes
):
    settings.SENSORGRID_MQTT_URL = "mqtt://sg-ingest:ingestpw@127.0.0.1:1883"
    settings.SENSORGRID_MQTT_SHARED_GROUP = "sensorgrid"
    dynsec.execute(accounts.diff(accounts.desired(), accounts.actual(dynsec)).commands)
    ingest = Probe(dynsec_broker.url_for("sg-ingest", "ingestpw"))
    assert ingest.connect()
    assert not ingest.subscribe("$share/sensorgrid/sensorgrid/+/up")[1]
    assert not ingest.subscribe("kpi/+/#")[1]
    assert ingest.subscribe("#")[1]
    assert ingest.subscribe("$share/other/kpi/+/#")[1]
    ingest.close()


def test_a_deleted_nodes_client_goes_even_with_a_role_an_operator_gave_it():
    # Revocation applies to a node whatever else it holds: only non-node clients with a
    # foreign role are left alone.
    have = accounts.State()
    have.add(accounts.Account("node-9", ("node-9", "ops")), accounts.Role("node-9", frozenset()))
    result = accounts.diff(accounts.State(), have)
    assert "delete client node-9" in [str(change) for change in result.changes]


def test_the_diff_never_touches_the_admin_even_under_an_owned_name(settings):
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = "sg-admin"
    have = accounts.State()
    have.add(accounts.Account("sg-admin", ("sg-admin",)), accounts.Role("sg-admin", frozenset()))
    have.add(accounts.Account("sg-ops", ("sg-x", "ops")))
    have.add(accounts.Account("node-9", ("node-9",)), accounts.Role("node-9", frozenset()))
    want = accounts.State()
    want.add(accounts.Account("sg-admin", ("sg-ingest",), password="pw"))
    result = accounts.diff(want, have)
    assert sorted(str(change) for change in result.changes) == [
        "delete client node-9",
        "delete role node-9",
    ]
