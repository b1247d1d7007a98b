"""The dashboard's "API tokens" page: one's own tokens, a new key shown once, revoke."""

import re

import pytest
from django.test import Client

from sensorgrid.accounts.models import ApiToken

PAGE = "/account/tokens/"


@pytest.fixture
def alice(world, client):
    client.force_login(world.alice)
    return client


def key_on(page) -> str:
    match = re.search(r'id="new-key"[^>]*value="([^"]+)"', page.content.decode())
    assert match, page.content.decode()[:3000]
    return match.group(1)


def test_a_new_token_is_shown_once_and_opens_the_api(alice):
    created = alice.post(PAGE, {"name": "export script"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    key = key_on(created)
    assert alice.get("/api/v1/sites/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    again = alice.get(PAGE).content.decode()
    assert "export script" in again
    assert key not in again
    assert ApiToken.objects.get().prefix in again


def test_the_page_is_linked_from_the_navigation(alice):
    assert f'href="{PAGE}"' in alice.get("/alerts/").content.decode()


def test_revoking_on_the_page_ends_the_token(alice):
    key = key_on(alice.post(PAGE, {"name": "old"}))
    token = ApiToken.objects.get()
    assert alice.post(PAGE, {"revoke": token.pk}).status_code == 302
    assert alice.get("/api/v1/sites/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_nobody_sees_or_revokes_another_users_tokens(world, alice):
    charlies, _ = ApiToken.objects.issue(world.charlie, "charlie's secret job")
    assert "charlie's secret job" not in alice.get(PAGE).content.decode()
    assert alice.post(PAGE, {"revoke": charlies.pk}).status_code == 404
    assert alice.post(PAGE, {"revoke": "not-a-number"}).status_code == 404
    assert ApiToken.objects.filter(pk=charlies.pk).exists()


def test_the_forms_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    assert client.post(PAGE, {"name": "forged"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_name_is_required(alice):
    page = alice.post(PAGE, {"name": ""})
    assert page.status_code == 200
    assert 'aria-invalid="true"' in page.content.decode()
    assert not ApiToken.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
