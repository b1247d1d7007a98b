"""User API tokens: hashed at rest, expiring, listable and revocable by their owner only,
and ended by a password change or a deactivation."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from sensorgrid.accounts.models import ApiToken
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"


def issue(username: str, name: str | None = None) -> dict:
    body = {"username": username, "password": PASSWORD} | ({"name": name} if name else {})
    response = APIClient().post(TOKEN, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def as_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key: str) -> bool:
    status = as_key(key).get("/api/v1/sites/").status_code
    assert status in (200, 401)
    return status == 200


def test_the_key_is_shown_once_and_only_its_digest_is_stored(world):
    issued = issue("alice", "export script")
    key = issued["token"]
    assert works(key)
    stored = ApiToken.objects.get(pk=issued["id"])
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(stored.prefix) and len(stored.prefix) < len(key) // 3
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert key not in dump.getvalue()
    assert stored.digest in dump.getvalue()


def test_the_answer_keeps_the_old_shape_and_tells_the_expiry(world):
    issued = issue("alice")
    assert set(issued) >= {"token", "id", "name", "expires_at"}
    assert issued["name"] == "API"
    expires = ApiToken.objects.get(pk=issued["id"]).expires_at
    assert abs(expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


def test_a_ttl_of_zero_days_issues_tokens_that_never_expire(world, settings):
    settings.SENSORGRID_TOKEN_TTL_DAYS = 0
    assert issue("alice")["expires_at"] is None


def test_a_user_lists_their_tokens_without_any_key(world):
    first, second = issue("alice", "laptop"), issue("alice", "ci")
    issue("charlie", "charlie's")
    response = as_key(first["token"]).get(TOKENS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["ci", "laptop"]
    assert set(rows[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "expired",
    }
    body = response.content.decode()
    assert first["token"] not in body and second["token"] not in body
    assert rows[1]["last_used_at"] is not None  # the request itself used "laptop"


def test_another_users_token_is_not_found_and_not_revoked(world):
    alices = issue("alice")
    charlie = as_key(issue("charlie")["token"])
    assert charlie.get(f"{TOKENS}{alices['id']}/").status_code == 404
    assert charlie.delete(f"{TOKENS}{alices['id']}/").status_code == 404
    assert works(alices["token"])


def test_a_revoked_token_stops_working_at_once(world):
    keep, revoke = issue("alice", "keep"), issue("alice", "revoke")
    assert works(revoke["token"])
    assert as_key(keep["token"]).delete(f"{TOKENS}{revoke['id']}/").status_code == 204
    assert not works(revoke["token"])
    assert works(keep["token"])


def test_a_token_revokes_itself(world):
    issued = issue("alice")
    assert as_key(issued["token"]).delete(f"{TOKENS}{issued['id']}/").status_code == 204
    assert not works(issued["token"])


def test_an_expired_token_gets_401(world):
    issued = issue("alice")
    ApiToken.objects.filter(pk=issued["id"]).update(expires_at=timezone.now())
    response = as_key(issued["token"]).get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked token."}
    listed = APIClient()
    listed.force_authenticate(world.alice)
    assert listed.get(TOKENS).json()["results"][0]["expired"] is True


def test_a_password_change_ends_every_token(world):
    keys = [issue("alice", name)["token"] for name in ("one", "two")]
    charlies = issue("charlie")["token"]
    world.alice.set_password("a new and long passphrase")
    world.alice.save()
    assert not any(works(key) for key in keys)
    assert works(charlies)
    assert not ApiToken.objects.filter(user=world.alice).exists()


def test_signing_in_again_keeps_the_tokens(world, client):
    # A login saves the user (last_login) without changing the password.
    key = issue("alice")["token"]
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    world.alice.refresh_from_db()
    assert world.alice.last_login is not None
    assert works(key)


def test_deactivating_a_user_ends_their_tokens(world):
    key = issue("alice")["token"]
    world.alice.is_active = False
    world.alice.save(update_fields=["is_active"])
    assert not works(key)
    assert not ApiToken.objects.filter(user=world.alice).exists()


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token \x00", "Bearer x"])
def test_malformed_headers_are_401_or_anonymous_never_500(world, header):
    response = APIClient().get("/api/v1/sites/", HTTP_AUTHORIZATION=header)
    assert response.status_code in (200, 401)


def test_new_tokens_cannot_be_minted_with_a_token(world):
    # A stolen key must not extend its own life: new keys need the password.
    key = issue("alice")["token"]
    response = as_key(key).post(TOKENS, {"name": "forever"}, format="json")
    assert response.status_code == 405
