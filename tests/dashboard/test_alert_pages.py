"""The alert pages with the Django test client: who sees which alerts and rules, who
may acknowledge and create, and the rule form's validation (browser: test_browser.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sensorgrid.alerts.models import Alert, AlertRule, Channel
from sensorgrid.inventory.models import Quantity

pytestmark = pytest.mark.django_db


@pytest.fixture
def co2(db):
    return Quantity.objects.get(key="co2")


def make_rule(organization, co2, name="secret rule", **kwargs) -> AlertRule:
    return AlertRule.objects.create(
        organization=organization,
        name=name,
        kind="threshold",
        params={"above": 1000},
        quantity=co2,
        **kwargs,
    )


def make_alert(rule, node, message, resolved=False, severity="warning", ago=60) -> Alert:
    opened = timezone.now() - timedelta(seconds=ago)
    return Alert.objects.create(
        organization=rule.organization,
        rule=rule,
        node=node,
        quantity=rule.quantity,
        severity=severity,
        message=message,
        started_at=opened,
        opened_at=opened,
        resolved_at=opened + timedelta(seconds=30) if resolved else None,
        last_value=1500,
        last_ts=opened,
    )


@pytest.fixture
def alerts(world, co2):
    rule_a = make_rule(world.org_a, co2, name="secretA rule")
    rule_b = make_rule(world.org_b, co2, name="secretB rule")
    return {
        "open_a": make_alert(rule_a, world.node_a, "secretA co2 high", severity="critical"),
        "resolved_a": make_alert(rule_a, world.node_a, "secretA was high", resolved=True, ago=600),
        "open_b": make_alert(rule_b, world.node_b, "secretB co2 high"),
        "rule_a": rule_a,
        "rule_b": rule_b,
    }


def text(response) -> str:
    return response.content.decode()


def login(client, user):
    client.force_login(user)
    return client


def test_alice_sees_her_organizations_alerts_open_first(world, alerts, client):
    response = login(client, world.alice).get("/alerts/")
    assert response.status_code == 200
    body = text(response)
    assert "secretB" not in body
    assert body.index("secretA co2 high") < body.index("secretA was high")
    assert [r["alert"] for r in response.context["open_rows"]] == [alerts["open_a"]]
    assert [r["alert"] for r in response.context["resolved_rows"]] == [alerts["resolved_a"]]
    assert '<span class="badge severity-critical">critical</span>' in body
    assert f'href="/nodes/{world.node_a.pk}/"' in body
    assert ">Acknowledge</button>" in body
    assert '<a href="/alerts/" aria-current="page">Alerts</a>' in body
    config = response.context["config"]
    assert config["subscriptions"] == [{"organization": world.org_a.pk}]
    assert config["row"] == "/alerts/0/row/"


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("state=resolved", ["secretA was high"], ["secretA co2 high"]),
        ("state=open", ["secretA co2 high"], ["secretA was high"]),
        ("severity=warning", ["secretA was high"], ["secretA co2 high"]),
        ("severity=critical&state=unacknowledged", ["secretA co2 high"], ["secretA was high"]),
    ],
)
def test_the_alerts_page_filters_by_state_and_severity(world, alerts, client, query, shown, hidden):
    body = text(login(client, world.alice).get(f"/alerts/?{query}"))
    assert all(message in body for message in shown)
    assert not any(message in body for message in hidden)


def test_alice_acknowledges_an_open_alert_and_returns_to_the_page(world, alerts, client):
    alert = alerts["open_a"]
    response = login(client, world.alice).post(
        f"/alerts/{alert.pk}/acknowledge/", {"next": "/alerts/?severity=critical"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/alerts/?severity=critical"
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.alice and alert.acknowledged_at is not None
    body = text(client.get("/alerts/"))
    assert '<span class="badge alert-acknowledged">Acknowledged</span>' in body
    assert "by alice" in body


def test_acknowledging_never_redirects_to_another_site(world, alerts, client):
    alert = alerts["open_a"]
    response = login(client, world.alice).post(
        f"/alerts/{alert.pk}/acknowledge/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/alerts/"


def test_bob_the_inspector_sees_alerts_but_cannot_acknowledge(world, alerts, client):
    alert = alerts["open_a"]
    body = text(login(client, world.bob).get("/alerts/"))
    assert "secretA co2 high" in body
    assert ">Acknowledge</button>" not in body
    response = client.post(f"/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 403
    assert "Only owners" in text(response)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_charlie_gets_404_for_alices_alerts_and_rules(world, alerts, client):
    login(client, world.charlie)
    alert, rule = alerts["open_a"], alerts["rule_a"]
    for url in [f"/alerts/{alert.pk}/row/", f"/alerts/rules/{rule.pk}/", "/alerts/rules/999999/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "secretA" not in text(response)
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert "secretA" not in text(client.get("/alerts/rules/"))
    assert "secretA" not in text(client.get("/alerts/"))


def test_the_row_fragment_is_one_table_row(world, alerts, client):
    alert = alerts["open_a"]
    response = login(client, world.alice).get(f"/alerts/{alert.pk}/row/?next=/nodes/1/")
    body = text(response).strip()
    assert body.startswith(f'<tr data-alert="{alert.pk}" data-state="open"')
    assert 'name="next" value="/nodes/1/"' in body


def test_anonymous_visitors_are_sent_to_login(client, world, alerts):
    for url in ["/alerts/", "/alerts/rules/", "/alerts/rules/new/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_the_node_page_lists_the_nodes_open_alerts(world, alerts, client):
    response = login(client, world.alice).get(f"/nodes/{world.node_a.pk}/")
    body = text(response)
    assert "secretA co2 high" in body
    assert "secretA was high" not in body
    assert response.context["config"]["row"] == "/alerts/0/row/"


def test_rules_list_shows_the_users_rules_and_the_new_link_to_owners(world, alerts, client):
    body = text(login(client, world.alice).get("/alerts/rules/"))
    assert "secretA rule" in body and "secretB rule" not in body
    assert 'href="/alerts/rules/new/"' in body
    rule_page = text(client.get(f"/alerts/rules/{alerts['rule_a'].pk}/"))
    assert "secretA co2 high" in rule_page
    assert "<code>above=1000</code>" in rule_page


def test_bob_the_inspector_sees_rules_but_cannot_create(world, alerts, client):
    body = text(login(client, world.bob).get("/alerts/rules/"))
    assert "secretA rule" in body
    assert 'href="/alerts/rules/new/"' not in body
    assert client.get("/alerts/rules/new/").status_code == 403
    before = AlertRule.objects.count()
    assert client.post("/alerts/rules/new/", form_data(world)).status_code == 403
    assert AlertRule.objects.count() == before


def form_data(world, **changes) -> dict:
    data = {
        "name": "CO2 high",
        "organization": world.org_a.pk,
        "scope": "site",
        "site": world.site_a.pk,
        "node": "",
        "kind": "threshold",
        "quantity": "co2",
        "direction": "above",
        "value": "1000",
        "clear": "900",
        "for_minutes": "10",
        "severity": "critical",
        "channel": "",
        "webhook_url": "https://hooks.example.org/sg",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_alice_creates_a_rule_with_a_new_webhook_and_sees_its_secret_once(world, client, co2):
    response = login(client, world.alice).post("/alerts/rules/new/", form_data(world))
    assert response.status_code == 302
    rule = AlertRule.objects.get(name="CO2 high")
    assert response["Location"] == f"/alerts/rules/{rule.pk}/"
    assert rule.organization == world.org_a and rule.scope == "site" and rule.site == world.site_a
    assert rule.quantity == co2 and rule.severity == "critical"
    assert rule.params == {"above": 1000, "clear": 900, "for_seconds": 600}
    (channel,) = rule.channels.all()
    assert channel.kind == "webhook" and channel.config == {"url": "https://hooks.example.org/sg"}
    assert channel.organization == world.org_a
    first = text(client.get(response["Location"]))
    assert channel.secret in first
    assert channel.secret not in text(client.get(response["Location"]))


def test_alice_picks_an_existing_webhook(world, client):
    hook = Channel.objects.create(
        organization=world.org_a, name="ops hook", kind="webhook", config={"url": "https://x.test/"}
    )
    data = form_data(world, channel=hook.pk, webhook_url="", scope="node", node=world.node_a.pk)
    response = login(client, world.alice).post("/alerts/rules/new/", data)
    assert response.status_code == 302
    rule = AlertRule.objects.get(name="CO2 high")
    assert list(rule.channels.all()) == [hook]
    assert rule.scope == "node" and rule.node == world.node_a and rule.site is None
    assert hook.secret not in text(client.get(response["Location"]))
    assert Channel.objects.count() == 1


def errors_of(response) -> dict:
    assert response.status_code == 200
    return response.context["form"].errors


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value": ""}, "value", "A threshold rule needs a limit."),
        ({"clear": "1200"}, "clear", "With above, clear must not be greater"),
        ({"scope": "node", "node": ""}, "node", "Required with scope node."),
        ({"kind": "node_health"}, "quantity", "watches nodes, not a quantity"),
        ({"kind": "no_data", "for_minutes": "0.5"}, "for_minutes", "Must be at least 60"),
        ({"webhook_url": "ftp://files.example.org/"}, "webhook_url", "http:// or https://"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_the_rule_form_shows_errors_next_to_the_fields(world, client, changes, field, message):
    response = login(client, world.alice).post("/alerts/rules/new/", form_data(world, **changes))
    errors = errors_of(response)
    assert any(message in e for e in errors[field]), errors
    body = text(response)
    assert message.split(" (")[0].replace("'", "&#x27;") in body
    assert 'aria-invalid="true"' in body
    assert AlertRule.objects.count() == 0 and Channel.objects.count() == 0


def test_the_rule_form_offers_only_alices_objects(world, client):
    response = login(client, world.alice).get("/alerts/rules/new/")
    body = text(response)
    assert '<label for="id_name">' in body
    assert "secretA site" in body and "secretB" not in body
    errors = errors_of(
        client.post(
            "/alerts/rules/new/",
            form_data(world, organization=world.org_b.pk, scope="node", node=world.node_b.pk),
        )
    )
    assert "organization" in errors and "node" in errors


def test_a_target_of_another_of_her_organizations_is_refused_by_the_serializer(world, client):
    # alice owns org B too here; the rule is for org A, the site is org B's.
    from sensorgrid.tenancy.models import Membership, Role

    Membership.objects.create(user=world.alice, organization=world.org_b, role=Role.OWNER)
    errors = errors_of(
        login(client, world.alice).post(
            "/alerts/rules/new/", form_data(world, site=world.site_b.pk)
        )
    )
    assert errors["site"] == ["Belongs to another organization than the rule."]
