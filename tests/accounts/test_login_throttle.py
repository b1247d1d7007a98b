"""Brute force on every login: per account and per client address, with a cool-off.

Attempts are rows of django-axes' table, so each test starts from none (its
transaction is rolled back) and the other tests, which log in rightly, never meet a
lockout.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from sensorgrid.accounts import lockout
from tests.factories import PASSWORD

MESSAGE = "Too many failed logins; try again in 15 minutes."
ELSEWHERE = "198.51.100.7"


def dashboard(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def admin(client, username, password, **extra):
    data = {"username": username, "password": password, "next": "/admin/"}
    return client.post("/admin/login/", data, **extra)


def browsable_api(client, username, password, **extra):
    data = {"username": username, "password": password, "next": "/api/v1/"}
    return client.post("/api-auth/login/", data, **extra)


def token(client, username, password, **extra):
    data = {"username": username, "password": password}
    return client.post("/api/v1/auth/token/", data, content_type="application/json", **extra)


FORMS = [dashboard, admin, browsable_api, token]


def signed_in(form, response) -> bool:
    if form is token:
        return response.status_code == 200 and "token" in response.json()
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


@pytest.fixture(autouse=True)
def no_request_rate_limit(monkeypatch):
    # The token endpoint's own per-address rate (30/min) would answer first; this is
    # about the lockout. DRF reads the rates once at import: patch the class.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "10000/min"})


@pytest.fixture
def locked(world, client):
    """root (who may open the admin) after wrong passwords (100) from 127.0.0.1."""

    def lock(form, attempts=100):
        statuses = [form(client, "root", f"guess-{i}").status_code for i in range(attempts)]
        limit = settings.SENSORGRID_LOGIN_FAILURE_LIMIT
        assert 429 not in statuses[: limit - 1]
        assert set(statuses[limit - 1 :]) == {429}
        return client

    return lock


@pytest.mark.parametrize("form", FORMS)
def test_after_100_wrong_passwords_the_right_one_is_refused_on_every_form(locked, form):
    client = locked(form)
    response = form(client, "root", PASSWORD)
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)
    assert not signed_in(form, response)


@pytest.mark.parametrize("form", FORMS)
def test_the_right_password_still_works_below_the_limit(world, client, form):
    for i in range(settings.SENSORGRID_LOGIN_FAILURE_LIMIT - 1):
        assert form(client, "root", f"guess-{i}").status_code != 429
    assert signed_in(form, form(client, "root", PASSWORD))


def test_the_locked_account_is_refused_from_another_address_too(locked):
    client = locked(dashboard, attempts=12)
    response = dashboard(client, "root", PASSWORD, REMOTE_ADDR=ELSEWHERE)
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()


def test_another_account_from_the_locked_address_is_refused(locked):
    client = locked(dashboard, attempts=12)
    response = dashboard(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(dashboard, response)


def test_another_account_from_another_address_signs_in(locked):
    client = locked(dashboard, attempts=12)
    assert signed_in(dashboard, dashboard(client, "alice", PASSWORD, REMOTE_ADDR=ELSEWHERE))


def test_a_forged_forwarded_for_header_is_not_another_address(locked):
    client = locked(token, attempts=12)
    response = token(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert response.status_code == 429
    assert response.json() == {"detail": MESSAGE}


def test_the_lockout_ends_once_the_cooloff_has_passed_without_failures(locked):
    client = locked(dashboard, attempts=12)
    cooloff = timedelta(minutes=settings.SENSORGRID_LOGIN_COOLOFF_MINUTES)

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - cooloff + timedelta(minutes=1)
    )
    # Still inside the cool-off; this refusal counts as a failure and starts it again.
    assert dashboard(client, "root", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - cooloff - timedelta(seconds=1)
    )
    assert signed_in(dashboard, dashboard(client, "root", PASSWORD))


def test_behind_declared_proxies_the_forwarded_address_counts(rf, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    forwarded = rf.post("/login/", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {ELSEWHERE}")
    assert lockout.client_address(forwarded) == ELSEWHERE
    # A proxy that passed garbage on: the peer, never a value the client chose freely.
    garbage = rf.post("/login/", HTTP_X_FORWARDED_FOR="not-an-address")
    assert lockout.client_address(garbage) == "127.0.0.1"


def test_without_declared_proxies_the_peer_address_counts(rf):
    forged = rf.post("/login/", HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert lockout.client_address(forged) == "127.0.0.1"
