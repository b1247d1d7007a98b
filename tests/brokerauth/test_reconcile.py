"""The worker's reconcile repairs what went around the outbox and reports the drift."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.brokerauth import apply
from sensorgrid.brokerauth.models import Reconciliation
from tests import factories as f
from tests.brokerauth.devices import connack

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def outbox(settings, dynsec_broker):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    settings.SENSORGRID_BROKER_TIMEOUT = 3.0
    settings.SENSORGRID_MQTT_ROUTES = ["things/{device}/up=json"]
    return dynsec_broker


def new_node():
    node = f.NodeFactory()
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return node, credential


def test_the_reconcile_repairs_hand_made_changes_and_reports_them(outbox, dynsec, client):
    (kept, kept_credential), (removed, _), (revoked, revoked_credential) = (
        new_node() for _ in range(3)
    )
    apply.apply_due()
    # Around the outbox: a client deleted at the broker, a role widened, a stray client,
    # a credential revoked with QuerySet.update (no signal).
    dynsec.execute(
        [
            {"command": "deleteClient", "username": removed.broker_username},
            {
                "command": "addRoleACL",
                "rolename": kept.broker_username,
                "acltype": "publishClientSend",
                "topic": "#",
                "allow": True,
            },
            {"command": "createClient", "username": "node-999999", "password": "x"},
        ]
    )
    type(revoked).objects.filter(pk=revoked.pk).update(credential_digest="")

    result = apply.reconcile()
    assert sorted(str(change).split(":")[0] for change in result.changes) == [
        "change client " + revoked.broker_username,
        "change default publishClientReceive",  # a fresh broker allows receiving
        "change role " + kept.broker_username,
        "create client " + removed.broker_username,
        "delete client node-999999",
    ]
    assert "sensorgrid_broker_drift 5.0" in client.get("/metrics").content.decode()
    role = dynsec.run({"command": "getRole", "rolename": kept.broker_username})["role"]
    assert [acl["topic"] for acl in role["acls"]] == [f"things/{kept.device_id}/up"]
    assert connack(outbox.url_for(revoked.broker_username, revoked_credential)) != "Success"
    assert connack(outbox.url_for(kept.broker_username, kept_credential)) == "Success"

    assert not apply.reconcile()  # repaired: nothing differs any more
    assert "sensorgrid_broker_drift 0.0" in client.get("/metrics").content.decode()


def test_the_worker_reconciles_every_n_minutes(outbox, settings):
    settings.SENSORGRID_BROKER_RECONCILE_MINUTES = 15
    now = timezone.now()
    assert apply.reconcile_if_due(now) == 1  # a fresh broker's default: receiving allowed
    assert apply.reconcile_if_due(now + timedelta(minutes=14)) is None  # not due
    assert apply.reconcile_if_due(now + timedelta(minutes=15)) == 0
    assert Reconciliation.objects.count() == 2
    settings.SENSORGRID_BROKER_RECONCILE_MINUTES = 0
    assert apply.reconcile_if_due(now + timedelta(hours=1)) is None


def test_a_reconcile_that_cannot_reach_the_broker_is_recorded_with_why(outbox):
    outbox.stop()
    assert apply.reconcile_if_due() is None
    run = Reconciliation.objects.get()
    assert run.drift is None and "cannot reach the broker" in run.error


def test_a_reconcile_before_the_outbox_creates_the_client_with_its_waiting_password(outbox):
    node, credential = new_node()  # queued, not applied yet
    result = apply.reconcile()
    assert [str(change) for change in result.changes if node.broker_username in str(change)] == [
        f"create role {node.broker_username}: publishClientSend things/{node.device_id}/up",
        f"create client {node.broker_username}: enabled",
    ]
    assert connack(outbox.url_for(node.broker_username, credential)) == "Success"
    apply.apply_due()  # the queued changes find the broker in step
    assert connack(outbox.url_for(node.broker_username, credential)) == "Success"
