"""Who is asking (auth.py): Token, Basic (password or token), session with CSRF."""

import base64

import pytest
from django.test import Client

from sensorgrid.accounts.models import ApiToken
from tests.factories import PASSWORD

THINGS = "/sta/v1.1/Things"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {thing["name"] for thing in response.json()["value"]}


@pytest.fixture
def private_thing(world):
    return world.node_a.alias or world.node_a.device_id


def test_a_token_and_basic_credentials_read_as_their_user(world, private_thing):
    _, key = ApiToken.objects.issue(world.alice, "sta")
    assert private_thing in names(Client().get(THINGS, HTTP_AUTHORIZATION=f"Token {key}"))
    with_password = Client().get(THINGS, HTTP_AUTHORIZATION=basic("alice", PASSWORD))
    assert private_thing in names(with_password)
    # the token also works as Basic password (scripts keep no password around)
    with_token = Client().get(THINGS, HTTP_AUTHORIZATION=basic("alice", key))
    assert private_thing in names(with_token)
    # another user's token is no password of alice
    _, charlies = ApiToken.objects.issue(world.charlie, "sta")
    assert Client().get(THINGS, HTTP_AUTHORIZATION=basic("alice", charlies)).status_code == 401


def test_anonymous_reads_public_data_only(world, private_thing):
    public = world.public_node.alias or world.public_node.device_id
    seen = names(Client().get(THINGS))
    assert public in seen and private_thing not in seen


@pytest.mark.parametrize(
    "header",
    [
        "Token sg_not-a-token",
        "Token",
        basic("alice", "wrong password"),
        basic("nobody", PASSWORD),
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Bearer abc",
    ],
)
def test_wrong_credentials_are_401_with_a_challenge(world, header):
    response = Client().get(THINGS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert "Basic" in response["WWW-Authenticate"]


def test_a_changed_password_ends_a_remembered_basic_login(world):
    assert Client().get(THINGS, HTTP_AUTHORIZATION=basic("alice", PASSWORD)).status_code == 200
    world.alice.set_password("another password 123")
    world.alice.save()
    response = Client().get(THINGS, HTTP_AUTHORIZATION=basic("alice", PASSWORD))
    assert response.status_code == 401


def test_an_inactive_user_is_refused(world):
    _, key = ApiToken.objects.issue(world.alice, "sta")
    world.alice.is_active = False
    world.alice.save()
    assert Client().get(THINGS, HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert Client().get(THINGS, HTTP_AUTHORIZATION=basic("alice", PASSWORD)).status_code == 401


def test_a_session_reads_and_writes_only_with_its_csrf_token(world, private_thing):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    assert private_thing in names(client.get(THINGS))
    response = client.post(THINGS, {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_token_and_basic_writes_need_no_csrf_token(world):
    _, key = ApiToken.objects.issue(world.alice, "sta")
    for header in (f"Token {key}", basic("alice", PASSWORD)):
        client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=header)
        # not JSON: refused for the body (400), not for CSRF (403)
        response = client.post(THINGS, "name=x", content_type="text/plain")
        assert response.status_code == 400, response.content
        assert "application/json" in response.json()["message"]


def test_anonymous_writes_are_401_and_inspectors_403(world, client_for):
    for method in ("post", "patch", "put", "delete"):
        path = THINGS if method == "post" else f"{THINGS}({world.public_node.pk})"
        response = getattr(Client(), method)(path, {"name": "x"}, content_type="application/json")
        assert response.status_code == 401, (method, response.content)
        assert "WWW-Authenticate" in response
    bob = client_for(world.bob)
    response = bob.post(THINGS, {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["type"] == "error"
