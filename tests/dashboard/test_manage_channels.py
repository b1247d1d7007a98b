"""Alert channels in the dashboard (Django test client): owners create e-mail, webhook
(its signing secret shown once) and MQTT channels, edit and delete them, and rules can
choose an e-mail channel; ChannelSerializer refuses what the API refuses, next to the
field; secrets are never shown again; inspectors read; strangers get the 404."""

import re

import pytest
from django.test import Client

from sensorgrid.alerts.models import AlertRule, Channel, ChannelKind

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_channel(client, organization, kind, **fields):
    return client.post(
        "/alert-channels/new/",
        {"organization": organization.pk, "name": f"My {kind}", "kind": kind, **fields},
    )


@pytest.fixture
def mail_channel(world):
    return Channel.objects.create(
        organization=world.org_a,
        name="secretA mail",
        kind=ChannelKind.EMAIL,
        config={"to": ["caretaker@example.org"]},
    )


def test_alice_creates_an_e_mail_channel_and_a_rule_sends_through_it(world):
    alice = signed_in(world.alice)
    response = new_channel(
        alice, world.org_a, "email", email_to="caretaker@example.org,\nhead@example.org"
    )
    assert response.status_code == 302 and response.url == "/alert-channels/"
    channel = Channel.objects.get(name="My email")
    assert channel.config == {"to": ["caretaker@example.org", "head@example.org"]}
    page = body(alice.get("/alert-channels/"))
    assert "caretaker@example.org, head@example.org" in page and "E-mail" in page
    # the rule form offers it
    form = body(alice.get("/alerts/rules/new/"))
    assert f'<option value="{channel.pk}">My email (email)</option>' in form


def test_a_webhook_channel_shows_its_signing_secret_once(world):
    alice = signed_in(world.alice)
    response = new_channel(alice, world.org_a, "webhook", webhook_url="https://example.org/hook")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = re.search(
        r'id="secret" class="secret" type="text" readonly value="([^"]+)"', body(response)
    )
    channel = Channel.objects.get(name="My webhook")
    assert secret and secret.group(1) == channel.secret
    assert channel.secret not in body(alice.get("/alert-channels/"))
    assert channel.secret not in body(alice.get(f"/alert-channels/{channel.pk}/edit/"))


def test_an_mqtt_password_is_write_only_and_kept_on_edit(world):
    alice = signed_in(world.alice)
    response = new_channel(
        alice,
        world.org_a,
        "mqtt",
        mqtt_url="mqtts://bot@broker.example.org:8883",
        mqtt_topic="alerts/org-a",
        mqtt_password="hunter2-secret",
    )
    assert response.status_code == 302, body(response)
    channel = Channel.objects.get(name="My mqtt")
    edit = f"/alert-channels/{channel.pk}/edit/"
    assert "hunter2-secret" not in body(alice.get(edit))
    assert "hunter2-secret" not in body(alice.get("/alert-channels/"))
    alice.post(
        edit,
        {
            "name": "Renamed",
            "enabled": "on",
            "mqtt_url": "mqtts://bot@broker.example.org:8883",
            "mqtt_topic": "alerts/a",
        },
    )
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.config["topic"] == "alerts/a"
    assert channel.config.get("password") == "hunter2-secret"


def test_the_api_refusals_show_next_to_the_field(world):
    alice = signed_in(world.alice)
    response = new_channel(alice, world.org_a, "email", email_to="not-an-address")
    assert response.status_code == 200
    assert re.search(r"email_to.*is not an e-mail address", body(response), re.S)
    response = new_channel(alice, world.org_a, "webhook", webhook_url="ftp://example.org/")
    assert "an http:// or https:// address is required" in body(response)
    response = new_channel(alice, world.org_b, "email", email_to="a@example.org")
    assert "Select a valid choice" in body(response)
    assert not Channel.objects.exists()


def test_alice_disables_edits_and_deletes_a_channel(world, mail_channel):
    alice = signed_in(world.alice)
    rule = AlertRule.objects.create(
        organization=world.org_a,
        name="CO2",
        kind="threshold",
        params={"above": 1000},
        scope="organization",
    )
    rule.channels.add(mail_channel)
    edit = f"/alert-channels/{mail_channel.pk}/edit/"
    assert 'value="secretA mail"' in body(alice.get(edit))
    alice.post(edit, {"name": "secretA mail", "email_to": "new@example.org"})  # enabled unticked
    mail_channel.refresh_from_db()
    assert mail_channel.enabled is False and mail_channel.config == {"to": ["new@example.org"]}
    delete = f"/alert-channels/{mail_channel.pk}/delete/"
    assert "its place in 1 alert rule" in body(alice.get(delete))
    assert alice.post(delete).status_code == 302
    assert not Channel.objects.filter(pk=mail_channel.pk).exists()
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_bob_the_inspector_reads_without_buttons_and_is_refused(world, mail_channel):
    bob = signed_in(world.bob)
    page = body(bob.get("/alert-channels/"))
    assert "secretA mail" in page and "caretaker@example.org" in page
    assert "/edit/" not in page and "/delete/" not in page and "/alert-channels/new/" not in page
    assert bob.get("/alert-channels/new/").status_code == 403
    for path in (
        f"/alert-channels/{mail_channel.pk}/edit/",
        f"/alert-channels/{mail_channel.pk}/delete/",
    ):
        assert bob.get(path).status_code == 403
        assert bob.post(path, {"name": "bob's", "email_to": "bob@example.org"}).status_code == 403
    mail_channel.refresh_from_db()
    assert mail_channel.name == "secretA mail"


def test_charlie_from_org_b_gets_the_404(world, mail_channel):
    charlie = signed_in(world.charlie)
    assert "secretA" not in body(charlie.get("/alert-channels/"))
    for path in (
        f"/alert-channels/{mail_channel.pk}/edit/",
        f"/alert-channels/{mail_channel.pk}/delete/",
        "/alert-channels/999999/edit/",
    ):
        assert charlie.get(path).status_code == 404
        assert charlie.post(path, {"name": "x"}).status_code == 404
    assert Channel.objects.filter(pk=mail_channel.pk).exists()
