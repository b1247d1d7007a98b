"""Rules, channels, alerts, deliveries and forwarders through the API; the tenancy wall."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.alerts import evaluate
from sensorgrid.alerts.models import Alert, AlertRule, Channel, Delivery, DeliveryStatus, Forwarder
from sensorgrid.inventory.models import Quantity
from tests.alerts.conftest import rule

HOOK = {"url": "https://example.org/hook"}


def channel_of(organization, name="ops") -> Channel:
    return Channel.objects.create(organization=organization, name=name, kind="webhook", config=HOOK)


def alert_of(world, organization, node) -> Alert:
    co2 = Quantity.objects.get(key="co2")
    owner_rule = rule(
        organization, "threshold", {"above": 1000}, co2, channels=[channel_of(organization)]
    )
    now = timezone.now()
    return evaluate.open_alert(owner_rule, node.pk, co2.pk, now, now, 1200.0, "1200 > 1000", now)


@pytest.fixture
def objects(world):
    """One of everything in org A, and in org B."""
    made = {}
    for key, organization, node in (
        ("a", world.org_a, world.node_a),
        ("b", world.org_b, world.node_b),
    ):
        alert = alert_of(world, organization, node)
        made[key] = {
            "alert-rules": alert.rule,
            "alerts": alert,
            "alert-channels": alert.rule.channels.get(),
            "deliveries": Delivery.objects.get(alert=alert),
            "forwarders": Forwarder.objects.create(
                organization=organization, name="fw", channel=alert.rule.channels.get()
            ),
        }
    return made


ENDPOINTS = ["alert-rules", "alerts", "alert-channels", "deliveries", "forwarders"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_strangers_see_nothing_and_get_404(world, client_for, objects, endpoint):
    charlie = client_for(world.charlie)
    mine = objects["b"][endpoint].pk
    theirs = objects["a"][endpoint].pk
    listed = charlie.get(f"/api/v1/{endpoint}/").json()["results"]
    assert [row["id"] for row in listed] == [mine]
    assert charlie.get(f"/api/v1/{endpoint}/{theirs}/").status_code == 404
    assert charlie.patch(f"/api/v1/{endpoint}/{theirs}/", {}, format="json").status_code in (
        404,
        405,
    )
    assert charlie.delete(f"/api/v1/{endpoint}/{theirs}/").status_code in (404, 405)
    anonymous = client_for(None).get(f"/api/v1/{endpoint}/").json()["results"]
    assert anonymous == []


@pytest.mark.parametrize("endpoint", ["alert-rules", "alert-channels", "forwarders"])
def test_inspectors_read_but_cannot_change(world, client_for, objects, endpoint):
    bob = client_for(world.bob)
    target = objects["a"][endpoint].pk
    assert bob.get(f"/api/v1/{endpoint}/{target}/").status_code == 200
    assert (
        bob.patch(f"/api/v1/{endpoint}/{target}/", {"name": "x"}, format="json").status_code == 403
    )
    assert bob.delete(f"/api/v1/{endpoint}/{target}/").status_code == 403


def test_an_owner_creates_a_rule_with_normalised_parameters(world, client_for):
    channel = channel_of(world.org_a)
    response = client_for(world.alice).post(
        "/api/v1/alert-rules/",
        {
            "organization": world.org_a.pk,
            "name": "Classroom CO2",
            "kind": "threshold",
            "params": {"above": 1000, "clear": 900, "for_seconds": 600},
            "scope": "room",
            "room": world.room_a.pk,
            "quantity": "co2",
            "severity": "warning",
            "channels": [channel.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["params"] == {"above": 1000, "clear": 900, "for_seconds": 600}
    assert body["quantity"] == "co2" and body["channels"] == [channel.pk]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"params": {"above": 1000, "clear": 2000}}, "params"),
        ({"params": [1, 2]}, "params"),
        ({"params": "above 1000"}, "params"),
        ({"kind": "astrology"}, "kind"),
        ({"quantity": None}, "quantity"),
        ({"quantity": "unobtainium"}, "quantity"),
        ({"scope": "node"}, "node"),
        ({"scope": "node", "node": "B"}, "node"),
        ({"scope": "room", "room": "B"}, "room"),
        ({"channels": ["B"]}, "channels"),
        ({"organization": "B"}, "organization"),
    ],
)
def test_bad_rules_get_a_400_naming_the_field(world, client_for, change, field):
    foreign = Channel.objects.create(
        organization=world.org_b, name="b", kind="webhook", config=HOOK
    )
    b = {"node": world.node_b.pk, "room": world.room_b.pk, "channels": foreign.pk}
    b["organization"] = world.org_b.pk
    change = {k: (b[k] if v == "B" else [b[k]] if v == ["B"] else v) for k, v in change.items()}
    data = {
        "organization": world.org_a.pk,
        "name": "r",
        "kind": "threshold",
        "params": {"above": 1000},
        "quantity": "co2",
        **change,
    }
    response = client_for(world.alice).post("/api/v1/alert-rules/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert "secretB" not in response.content.decode()


def test_node_health_rules_need_no_quantity(world, client_for):
    response = client_for(world.alice).post(
        "/api/v1/alert-rules/",
        {"organization": world.org_a.pk, "name": "dead", "kind": "node_health"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["params"] == {"statuses": ["DEAD", "MISSING"]}


def test_changing_a_rule_resolves_its_open_alerts(world, client_for, objects):
    alert = objects["a"]["alerts"]
    response = client_for(world.alice).patch(
        f"/api/v1/alert-rules/{alert.rule_id}/", {"params": {"above": 2000}}, format="json"
    )
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    renamed = client_for(world.alice).patch(
        f"/api/v1/alert-rules/{alert.rule_id}/", {"name": "new name"}, format="json"
    )
    assert renamed.status_code == 200


def test_channels_show_their_secret_once_and_check_their_config(world, client_for):
    alice = client_for(world.alice)
    created = alice.post(
        "/api/v1/alert-channels/",
        {"organization": world.org_a.pk, "name": "hook", "kind": "webhook", "config": HOOK},
        format="json",
    )
    assert created.status_code == 201 and len(created.json()["secret"]) > 30
    pk = created.json()["id"]
    assert "secret" not in alice.get(f"/api/v1/alert-channels/{pk}/").json()
    rotated = alice.post(f"/api/v1/alert-channels/{pk}/rotate-secret/").json()["secret"]
    assert rotated != created.json()["secret"] and Channel.objects.get(pk=pk).secret == rotated
    for kind, config in [
        ("webhook", {"url": "ftp://x"}),
        ("email", {"to": ["not an address"]}),
        ("mqtt", {"url": "mqtt://broker", "topic": "a/#"}),
        ("webhook", ["https://x"]),
    ]:
        bad = alice.post(
            "/api/v1/alert-channels/",
            {"organization": world.org_a.pk, "name": "x", "kind": kind, "config": config},
            format="json",
        )
        assert bad.status_code == 400 and "config" in bad.json(), (kind, bad.content)


def test_a_test_message_goes_through_the_outbox(world, client_for, objects):
    channel = objects["a"]["alert-channels"]
    response = client_for(world.alice).post(f"/api/v1/alert-channels/{channel.pk}/test/")
    assert response.status_code == 201 and response.json()["event"] == "test"
    assert (
        client_for(world.bob).post(f"/api/v1/alert-channels/{channel.pk}/test/").status_code == 403
    )


def test_alerts_are_filtered_and_acknowledged_by_owners_only(world, client_for, objects):
    alert = objects["a"]["alerts"]
    alice, bob, charlie = (client_for(u) for u in (world.alice, world.bob, world.charlie))
    assert [a["id"] for a in bob.get("/api/v1/alerts/?open=true").json()["results"]] == [alert.pk]
    assert bob.get("/api/v1/alerts/?open=false").json()["results"] == []
    assert bob.get("/api/v1/alerts/?quantity=co2&severity=warning").json()["count"] == 1
    assert bob.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert charlie.post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 404
    acknowledged = alice.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_by"] == "alice"
    assert bob.get("/api/v1/alerts/?acknowledged=false").json()["results"] == []
    assert bob.get("/api/v1/alerts/?acknowledged=true").json()["count"] == 1
    assert alice.post("/api/v1/alerts/", {}, format="json").status_code == 405
    since = (timezone.now() + timedelta(hours=1)).isoformat()
    assert bob.get("/api/v1/alerts/", {"opened_after": since}).json()["count"] == 0


def test_failed_deliveries_can_be_retried(world, client_for, objects):
    delivery = objects["a"]["deliveries"]
    alice = client_for(world.alice)
    assert alice.post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 409
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=10)
    assert client_for(world.bob).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 403
    retried = alice.post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"


def test_forwarders_refuse_foreign_and_email_channels(world, client_for, objects):
    alice = client_for(world.alice)
    email = Channel.objects.create(
        organization=world.org_a, name="mail", kind="email", config={"to": ["a@example.org"]}
    )
    for channel in (objects["b"]["alert-channels"].pk, email.pk):
        response = alice.post(
            "/api/v1/forwarders/",
            {"organization": world.org_a.pk, "name": "f", "channel": channel},
            format="json",
        )
        assert response.status_code == 400 and "channel" in response.json()


def test_the_endpoints_are_in_the_openapi_schema(client_for, world):
    assert AlertRule.objects.count() == 0
    schema = client_for(world.alice).get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/alert-rules/" in schema.content
