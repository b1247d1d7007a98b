"""A node that takes over the ingest service's session receives nothing (issue 20).

Mosquitto 2.0 hands a session, subscriptions included, to any authenticated client that
connects with its client id and clean start off; only delivery is checked against the
new client's ACLs (``publishClientReceive``). The ingest service's client id is stable,
so SensorGrid denies receiving by default and grants it to the ingest role alone
(accounts.DEFAULT_ACCESS).
"""

import pytest
from django.core.management import call_command

from sensorgrid.brokerauth import apply
from sensorgrid.brokerauth.models import Reconciliation
from sensorgrid.telemetry.models import Sample
from tests.brokerauth.probe import Probe
from tests.brokerauth.test_broker_auth import INGEST_PASSWORD, body, connected, fleet  # noqa: F401
from tests.ingest.mqtt.conftest import eventually, running

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INGEST_CLIENT_ID = "sensorgrid-ingest-testhost-0"


def receive_default(dynsec) -> bool:
    acls = dynsec.run({"command": "getDefaultACLAccess"})["acls"]
    return next(item["allow"] for item in acls if item["acltype"] == "publishClientReceive")


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_node_with_the_ingest_client_id_receives_nothing(fleet, dynsec_broker, protocol):  # noqa: F811
    nodes, url = fleet
    ingest_url = dynsec_broker.url_for("sg-ingest", INGEST_PASSWORD)
    with running(ingest_url, client_id=INGEST_CLIENT_ID):
        pass  # subscribed; its persistent session (and subscriptions) stays at the broker

    # org B's node resumes that session: clean start off (clean_session False on 3.1.1)
    attacker = Probe(url("b1"), protocol=protocol, client_id=INGEST_CLIENT_ID, persistent=True)
    assert attacker.connect(), attacker.connect_reason
    device = connected(url("a1"))
    assert not device.publish("sensorgrid/a1/up", body(611))[1]
    device.close()
    # the broker answers in order: once this PUBACK is in, a delivery of a1's message
    # (and of this one, which the session's subscriptions match too) would be in as well
    assert not attacker.publish("sensorgrid/b1/up", body(420))[1]
    attacker.close()
    assert len(attacker.messages) == 0, attacker.messages

    with running(ingest_url, client_id=INGEST_CLIENT_ID):  # the real ingest still receives
        device = connected(url("a2"))
        assert not device.publish("sensorgrid/a2/up", body(515))[1]
        device.close()
        eventually(lambda: Sample.objects.filter(node=nodes["a2"]).exists(), what="a2 stored")
    assert Sample.objects.get(node=nodes["a2"]).value == 515.0


def test_sync_denies_receiving_by_default_and_reports_an_allowing_default(
    fleet,  # noqa: F811
    dynsec,
    capsys,
    settings,
):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    call_command("broker_sync")  # the admin reads its answers with receiving denied
    assert capsys.readouterr().out.strip() == "in sync"
    assert receive_default(dynsec) is False

    allow = {"acltype": "publishClientReceive", "allow": True}
    dynsec.execute([{"command": "setDefaultACLAccess", "acls": [allow]}])
    call_command("broker_sync", "--dry-run")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "change default publishClientReceive: deny"
    assert out[1].startswith("1 change(s)")
    assert receive_default(dynsec) is True  # a dry run changes nothing

    assert len(apply.reconcile().changes) == 1
    assert Reconciliation.objects.latest("started_at").drift == 1
    assert receive_default(dynsec) is False
    call_command("broker_sync")
    assert capsys.readouterr().out.strip() == "in sync"
