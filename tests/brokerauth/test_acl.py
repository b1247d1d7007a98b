"""A node may publish only where the route table reads its own messages."""

import pytest

from sensorgrid.brokerauth import acl
from sensorgrid.ingest.models import MqttRoute
from sensorgrid.ingest.mqtt.routes import Route
from tests import factories as f

ROUTES = [
    Route("kpi/{device}/#", "kpi"),
    Route("/kpi/#", "kpi"),
    Route("sensorgrid/{device}/up", "json"),
    Route("v3/+/devices/+/up", "ttn", "lorawan"),
    Route("acme/+/{device}/data", "json"),
    Route("bound/{device}", "json", organization_id=7, route_id=1),
    Route("sensorgrid/{device}/up", "json"),  # repeated: one filter
]


def test_it_fills_the_device_level_and_keeps_other_wildcards():
    assert acl.filters_for_device("n1", ROUTES, organization_id=3) == [
        "kpi/n1/#",
        "sensorgrid/n1/up",
        "acme/+/n1/data",
    ]


def test_a_bound_route_counts_only_for_its_organization():
    assert "bound/n1" in acl.filters_for_device("n1", ROUTES, organization_id=7)
    assert "bound/n1" not in acl.filters_for_device("n1", ROUTES, organization_id=3)
    assert "bound/n1" not in acl.filters_for_device("n1", ROUTES)


@pytest.mark.parametrize("device_id", ["+", "#", "a/b", "a+", "x#", "", "$SYS", "-x", "a b"])
def test_an_id_that_could_widen_the_acl_gets_nothing(device_id):
    assert acl.filters_for_device(device_id, ROUTES, organization_id=3) == []


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("sensorgrid/n1/up", True),
        ("kpi/n1", True),  # '#' matches its parent level too
        ("kpi/n1/co2/x", True),
        ("acme/site9/n1/data", True),
        ("sensorgrid/n2/up", False),
        ("sensorgrid/n1/up/more", False),
        ("kpi/n10/co2", False),
        ("acme/site9/n2/data", False),
        ("sensorgrid/+/up", False),  # a topic name never holds a wildcard
        ("kpi/n1/#", False),
        ("$SYS/broker/uptime", False),
        ("", False),
    ],
)
def test_allowed_matches_like_mqtt(topic, expected):
    filters = acl.filters_for_device("n1", ROUTES, organization_id=3)
    assert acl.allowed(filters, topic) is expected


def test_no_filters_allow_nothing():
    assert not acl.allowed([], "sensorgrid/n1/up")


def test_a_leading_wildcard_filter_never_matches_a_dollar_topic():
    assert acl.allowed(["#"], "a/b")
    assert not acl.allowed(["#"], "$SYS/x")
    assert not acl.allowed(["+/x"], "$CONTROL/x")


@pytest.mark.django_db
def test_publish_filters_read_the_database_rows_then_the_settings(settings):
    settings.SENSORGRID_MQTT_ROUTES = ["sensorgrid/{device}/up=json", "/kpi/#=kpi"]
    org_a = f.OrganizationFactory()
    org_b = f.OrganizationFactory()
    node = f.NodeFactory(organization=org_a, device_id="co2-7")
    MqttRoute.objects.create(pattern="a/{device}/x", decoder="json", organization=org_a)
    MqttRoute.objects.create(pattern="b/{device}/x", decoder="json", organization=org_b)
    MqttRoute.objects.create(pattern="all/{device}/+", decoder="json")
    MqttRoute.objects.create(pattern="off/{device}", decoder="json", enabled=False)
    MqttRoute.objects.create(pattern="ttn/+/up", decoder="ttn", organization=org_a)

    assert acl.publish_filters(node) == ["a/co2-7/x", "all/co2-7/+", "sensorgrid/co2-7/up"]
    # The ingest would read another device's topics as that device's: never allowed.
    assert not acl.allowed(acl.publish_filters(node), "sensorgrid/co2-8/up")
    assert not acl.allowed(acl.publish_filters(node), "b/co2-7/x")


@pytest.mark.django_db
def test_a_node_saved_with_an_unsafe_id_gets_no_filters():
    # save() does not run the model's validator: the ACL must not trust it.
    node = f.NodeFactory(device_id="evil/+")
    assert acl.publish_filters(node) == []
