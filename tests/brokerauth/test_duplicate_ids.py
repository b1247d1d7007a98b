"""A device id registered by two organizations: the unbound routes' topics are the first
node's (acl.py), so the later one can neither publish as it nor silence it.

Organization B registers the id of organization A's device. Before, both nodes got
``sensorgrid/<id>/up``: B's device could publish as A's, and every message of A's was
refused as ambiguous from then on.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from sensorgrid.brokerauth import accounts, acl, apply
from sensorgrid.brokerauth.models import Action, BrokerChange
from sensorgrid.ingest.models import MqttRoute
from sensorgrid.ingest.mqtt.routes import Route
from sensorgrid.inventory.models import Node
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests import factories as f
from tests.brokerauth.probe import Probe
from tests.ingest.mqtt.conftest import eventually, running


@pytest.fixture
def orgs(db):
    return f.OrganizationFactory(), f.OrganizationFactory()


def routes_for(org_b) -> list[Route]:
    return [
        Route("sensorgrid/{device}/up", "json"),
        Route("bound-b/{device}", "json", organization_id=org_b.pk, route_id=1),
    ]


def test_the_duplicate_gets_only_its_organizations_bound_routes(orgs):
    org_a, org_b = orgs
    first = f.NodeFactory(organization=org_a, device_id="co2-1")
    later = f.NodeFactory(organization=org_b, device_id="CO2-1")  # the same id, ignoring case
    routes = routes_for(org_b)
    assert acl.publish_filters(first, routes) == ["sensorgrid/co2-1/up"]
    assert acl.publish_filters(later, routes) == ["bound-b/CO2-1"]
    assert not acl.allowed(acl.publish_filters(later, routes), "sensorgrid/co2-1/up")
    assert acl.first_node_id("Co2-1") == first.pk


def test_the_reconcile_gives_the_duplicate_no_unbound_topic(orgs, settings):
    org_a, org_b = orgs
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
    first = f.NodeFactory(organization=org_a, device_id="co2-1")
    later = f.NodeFactory(organization=org_b, device_id="co2-1")
    other = f.NodeFactory(organization=org_b, device_id="co2-2")
    state = accounts.desired()
    topics = {name: sorted(item.topic for item in role.acls) for name, role in state.roles.items()}
    assert topics[first.broker_username] == ["sensorgrid/co2-1/up"]
    assert topics[later.broker_username] == []
    assert topics[other.broker_username] == ["sensorgrid/co2-2/up"]
    # the single-node path (the outbox's upsert) agrees with the whole-inventory one
    assert accounts.node_role(later) == state.roles[later.broker_username]


def test_deleting_the_first_node_hands_the_topic_to_the_next_in_line(orgs):
    org_a, org_b = orgs
    org_c = f.OrganizationFactory()
    first = f.NodeFactory(organization=org_a, device_id="co2-1")
    second = f.NodeFactory(organization=org_b, device_id="co2-1")
    third = f.NodeFactory(organization=org_c, device_id="co2-1")
    routes = routes_for(org_b)
    org_a.delete()  # its nodes go with it
    assert acl.publish_filters(Node.objects.get(pk=second.pk), routes) == [
        "sensorgrid/co2-1/up",
        "bound-b/co2-1",
    ]
    assert acl.publish_filters(third, routes) == []
    assert not Node.objects.filter(pk=first.pk).exists()


@pytest.fixture
def queued(settings):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False

    def changes() -> list[tuple[str, str]]:
        rows = BrokerChange.objects.order_by("pk").values_list("action", "username")
        found = list(rows)
        BrokerChange.objects.all().delete()
        return found

    return changes


def test_the_outbox_resyncs_the_node_that_gains_or_loses_the_topic(orgs, queued):
    org_a, org_b = orgs
    low = f.NodeFactory(organization=org_a, device_id="spare")  # the lowest pk
    first = f.NodeFactory(organization=org_a, device_id="co2-1")
    queued()
    later = f.NodeFactory(organization=org_b, device_id="co2-1")
    # a duplicate takes nothing from the first node: only its own role
    assert queued() == [(Action.UPSERT, later.broker_username)]

    first_username = first.broker_username
    first.delete()
    assert queued() == [
        (Action.DELETE, first_username),
        (Action.UPSERT, later.broker_username),  # it gains the topic
    ]

    # a node with a lower pk taking the id takes the topic: the holder is resynced
    low.device_id = "co2-1"
    low.save()
    assert queued() == [
        (Action.UPSERT, low.broker_username),
        (Action.UPSERT, later.broker_username),  # it loses the topic
    ]
    assert acl.publish_filters(later, [Route("sensorgrid/{device}/up", "json")]) == []
    # and renaming it away gives the topic back
    low.device_id = "co2-9"
    low.save()
    assert queued() == [
        (Action.UPSERT, low.broker_username),
        (Action.UPSERT, later.broker_username),
    ]


# -- a real Mosquitto with dynamic security, the ingest service reading ------------------

INGEST_PASSWORD = "ingest-secret"


def body(co2: float) -> str:
    # one minute per value: two values of a node in one second would be one sample
    ts = (datetime.now(UTC) - timedelta(minutes=co2 % 600)).replace(microsecond=0)
    return json.dumps({"ts": ts.isoformat(), "values": {"co2": co2}})


def new_node(**fields) -> tuple[Node, str]:
    node = f.NodeFactory(**fields)
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return node, credential


def publish(url: str, topic: str, co2: float) -> tuple[str, bool]:
    probe = Probe(url)
    assert probe.connect(), probe.connect_reason
    try:
        return probe.publish(topic, body(co2))
    finally:
        probe.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_at_the_broker_the_duplicate_cannot_publish_as_the_first_node_nor_silence_it(
    dynsec, dynsec_broker, settings
):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    settings.SENSORGRID_BROKER_TIMEOUT = 5.0
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json"]
    settings.SENSORGRID_MQTT_URL = dynsec_broker.url_for("sg-ingest", INGEST_PASSWORD)
    org_a, org_b = f.OrganizationFactory(), f.OrganizationFactory()
    a, a_password = new_node(organization=org_a, device_id="co2-1")
    b, b_password = new_node(organization=org_b, device_id="co2-1")
    MqttRoute.objects.create(pattern="org-b/{device}/up", decoder="json", organization=org_b)
    apply.apply_due()
    dynsec.execute(accounts.diff(accounts.desired(), accounts.actual(dynsec)).commands)
    assert not BrokerChange.objects.exists()
    a_url = dynsec_broker.url_for(a.broker_username, a_password)
    b_url = dynsec_broker.url_for(b.broker_username, b_password)

    with running(settings.SENSORGRID_MQTT_URL):
        # B's device on A's topic: PUBACK "not authorized", nothing stored
        assert publish(b_url, "sensorgrid/co2-1/up", 999) == ("Not authorized", True)
        # A's device is still heard although B registered its id (ingest: the first node)
        assert publish(a_url, "sensorgrid/co2-1/up", 611)[1] is False
        eventually(lambda: Sample.objects.filter(node=a).exists(), what="A's value stored")
        # B has its organization's own route
        assert publish(b_url, "org-b/co2-1/up", 420)[1] is False
        eventually(lambda: Sample.objects.filter(node=b).exists(), what="B's value stored")

        a.delete()  # the topic goes to the next in line once the outbox applies
        apply.apply_due()
        assert not BrokerChange.objects.exists()
        assert publish(b_url, "sensorgrid/co2-1/up", 512)[1] is False
        eventually(
            lambda: Sample.objects.filter(node=b, value=512).exists(), what="B's topic value"
        )

    assert sorted(Sample.objects.filter(node=b).values_list("value", flat=True)) == [420, 512]
    assert not DeadLetter.objects.exists()


def test_the_connect_panel_of_the_duplicate_says_why_it_has_no_topic(world, client, settings):
    settings.SENSORGRID_MQTT_URL = "mqtt://ingest:s3cret@broker.internal:1883"
    client.force_login(world.charlie)  # owner of org B
    data = {"organization": world.org_b.pk, "device_id": world.node_a.device_id, "alias": "Mine"}
    response = client.post("/nodes/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-fact="mqtt-topic"' not in page
    assert re.search(
        r'data-fact="mqtt-taken">this device id is registered by another organization; '
        r"use a route bound to your organization",
        page,
    )
    # the panel of a node whose id nobody else has shows its topic and no such note
    response = client.post("/nodes/new/", {**data, "device_id": "only-mine-1"})
    page = response.content.decode()
    assert 'data-fact="mqtt-topic">sensorgrid/only-mine-1/up<' in page
    assert "mqtt-taken" not in page
