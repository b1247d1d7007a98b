"""A node's life reaches the real broker through the outbox: created, rotated, disabled,
enabled, renamed, deleted, its organization deleted; and a connected device is thrown off.

Mosquitto with the dynamic security plugin, throwaway on a free port (conftest.py).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from sensorgrid.brokerauth import apply, tasks
from sensorgrid.brokerauth.models import BrokerChange
from sensorgrid.env import ConfigurationError
from sensorgrid.ingest.models import MqttRoute
from sensorgrid.inventory.models import Node
from tests import factories as f
from tests.brokerauth.devices import Device, connack

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OK = "Success"
REFUSED = ("Not authorized", "Bad user name or password")


@pytest.fixture
def outbox(settings, dynsec_broker):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    settings.SENSORGRID_BROKER_TIMEOUT = 5.0
    return dynsec_broker


def new_node(**fields) -> tuple[Node, str]:
    node = f.NodeFactory(**fields)
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return node, credential


def applied() -> int:
    count = apply.apply_due()
    assert not BrokerChange.objects.exists(), list(BrokerChange.objects.all())
    return count


def test_a_new_node_connects_with_its_credential_and_nobody_else_does(outbox):
    node, credential = new_node()
    assert connack(outbox.url_for(node.broker_username, credential)) in REFUSED  # not yet
    applied()
    assert connack(outbox.url_for(node.broker_username, credential)) == OK
    assert connack(outbox.url_for(node.broker_username, "wrong")) in REFUSED


def test_rotation_refuses_the_old_credential_and_throws_the_connected_device_off(outbox):
    node, old = new_node()
    applied()
    device = Device(outbox.url_for(node.broker_username, old))
    assert device.connect() == OK
    try:
        new = node.issue_credential()
        node.save(update_fields=["credential_digest"])
        assert not device.thrown_off(0.5)  # the broker does not know before the worker
        applied()
        assert device.thrown_off()
    finally:
        device.close()
    assert connack(outbox.url_for(node.broker_username, old)) in REFUSED
    assert connack(outbox.url_for(node.broker_username, new)) == OK


def test_disabling_throws_the_device_off_and_enabling_needs_the_new_credential(outbox):
    node, old = new_node()
    applied()
    device = Device(outbox.url_for(node.broker_username, old))
    assert device.connect() == OK
    try:
        node.credential_digest = ""
        node.save(update_fields=["credential_digest"])
        applied()
        assert device.thrown_off()
    finally:
        device.close()
    assert connack(outbox.url_for(node.broker_username, old)) in REFUSED
    new = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    applied()
    assert connack(outbox.url_for(node.broker_username, old)) in REFUSED
    assert connack(outbox.url_for(node.broker_username, new)) == OK


def test_deleting_a_node_deletes_its_client_and_throws_it_off(outbox, dynsec):
    node, credential = new_node()
    applied()
    username = node.broker_username
    device = Device(outbox.url_for(username, credential))
    assert device.connect() == OK
    try:
        node.delete()
        applied()
        assert device.thrown_off()
    finally:
        device.close()
    assert connack(outbox.url_for(username, credential)) in REFUSED
    clients = dynsec.run({"command": "listClients"})["clients"]
    roles = dynsec.run({"command": "listRoles"})["roles"]
    assert username not in clients and username not in roles


def test_deleting_an_organization_refuses_all_its_nodes(outbox):
    org = f.OrganizationFactory()
    mine = [new_node(organization=org) for _ in range(3)]
    other, other_credential = new_node()
    applied()
    device = Device(outbox.url_for(mine[0][0].broker_username, mine[0][1]))
    assert device.connect() == OK
    try:
        org.delete()
        assert applied() == 3
        assert device.thrown_off()
    finally:
        device.close()
    for node, credential in mine:
        assert connack(outbox.url_for(node.broker_username, credential)) in REFUSED
    assert connack(outbox.url_for(other.broker_username, other_credential)) == OK


def test_a_new_device_id_moves_the_nodes_topics(outbox, dynsec, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["things/{device}/up=json"]
    node, _ = new_node(device_id="first")
    applied()
    node.device_id = "second"
    node.save()
    applied()
    role = dynsec.run({"command": "getRole", "rolename": node.broker_username})["role"]
    assert [acl["topic"] for acl in role["acls"]] == ["things/second/up"]


def test_a_new_route_reaches_every_nodes_role(outbox, dynsec, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["things/{device}/up=json"]
    nodes = [new_node(device_id=f"d{i}")[0] for i in range(3)]
    applied()
    MqttRoute.objects.create(pattern="extra/{device}", decoder="json")
    assert BrokerChange.objects.get().action == "routes"
    applied()
    for node in nodes:
        role = dynsec.run({"command": "getRole", "rolename": node.broker_username})["role"]
        topics = sorted(acl["topic"] for acl in role["acls"])
        assert topics == [f"extra/{node.device_id}", f"things/{node.device_id}/up"]


@pytest.fixture
def immediate_worker():
    HUEY.immediate = True  # queued tasks run at once, as an embedded worker would
    yield
    HUEY.immediate = False


def test_the_worker_applies_changes_right_after_their_commit(outbox, settings, immediate_worker):
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = True
    node, credential = new_node()
    assert not BrokerChange.objects.exists()  # brokerauth.apply_now ran after the commit
    assert connack(outbox.url_for(node.broker_username, credential)) == OK
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    username = node.broker_username
    node.delete()
    assert BrokerChange.objects.count() == 1
    tasks.apply_due()  # the minute task catches what was not kicked
    assert not BrokerChange.objects.exists()
    assert connack(outbox.url_for(username, credential)) in REFUSED


def test_a_password_that_cannot_be_decrypted_fails_alone(outbox, settings, client):
    early, early_credential = new_node()
    settings.SENSORGRID_BROKER_OUTBOX_KEY = "a new key, set while a change waited"
    late, late_credential = new_node()
    assert apply.apply_due() == 3  # all but the early node's password
    failed = BrokerChange.objects.get()
    assert (failed.username, failed.status, failed.secret) == (early.broker_username, "failed", "")
    assert "cannot be decrypted" in failed.last_error
    assert connack(outbox.url_for(late.broker_username, late_credential)) == OK
    assert connack(outbox.url_for(early.broker_username, early_credential)) in REFUSED
    text = client.get("/metrics").content.decode()
    assert 'sensorgrid_broker_changes{status="failed"} 1.0' in text
    # The way out: a new credential.
    again = early.issue_credential()
    early.save(update_fields=["credential_digest"])
    apply.apply_due()
    assert connack(outbox.url_for(early.broker_username, again)) == OK


def test_a_rotation_whose_password_cannot_be_decrypted_disables_the_client(outbox, settings):
    """Fail closed: the rotation was a revocation; the old credential must stop working."""
    node, old = new_node()
    applied()
    assert connack(outbox.url_for(node.broker_username, old)) == OK
    node.issue_credential()
    node.save(update_fields=["credential_digest"])
    settings.SENSORGRID_BROKER_OUTBOX_KEY = "a new key, set while the rotation waited"
    assert apply.apply_due() == 0
    failed = BrokerChange.objects.get()
    assert failed.status == "failed"
    assert "rotate the credential" in failed.last_error
    assert connack(outbox.url_for(node.broker_username, old)) in REFUSED
    again = node.issue_credential()  # the way out
    node.save(update_fields=["credential_digest"])
    apply.apply_due()
    assert connack(outbox.url_for(node.broker_username, again)) == OK


def test_a_broken_route_table_never_holds_back_a_deletion(outbox, settings):
    node, credential = new_node()
    applied()
    settings.SENSORGRID_MQTT_ROUTES = ["things/{device}/up=no-such-decoder"]
    with pytest.raises(ConfigurationError):
        apply.acl.device_routes()
    username = node.broker_username
    node.delete()
    assert applied() == 1
    assert connack(outbox.url_for(username, credential)) in REFUSED


def test_a_routes_change_that_keeps_crashing_fails_instead_of_blocking(outbox, settings):
    settings.SENSORGRID_MQTT_ROUTES = ["things/{device}/up=no-such-decoder"]
    MqttRoute.objects.create(pattern="extra/{device}", decoder="json")
    change = BrokerChange.objects.get(action="routes")
    BrokerChange.objects.filter(pk=change.pk).update(attempts=apply.MAX_CRASHES - 1)
    node, credential = new_node()
    apply.apply_due()
    change.refresh_from_db()
    assert change.status == "failed" and "crashed" in change.last_error
    settings.SENSORGRID_MQTT_ROUTES = ["things/{device}/up=json"]  # the route fixed
    apply.apply_due(now=timezone.now() + timedelta(hours=1))  # the node's change goes on
    assert connack(outbox.url_for(node.broker_username, credential)) == OK
