from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import PASSWORD

URL = "/api/v1/auth/token/"


def test_a_token_from_username_and_password_opens_the_api(world, client):
    response = client.post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    nodes = client.get("/api/v1/nodes/", HTTP_AUTHORIZATION=f"Token {token}")
    assert nodes.status_code == 200
    assert {n["device_id"] for n in nodes.json()["results"]} == {
        world.node_a.device_id,
        world.public_node.device_id,
    }


def test_a_wrong_password_gets_a_400_and_no_token(world, client):
    response = client.post(URL, {"username": "alice", "password": "wrong"})
    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_bad_token_is_401_not_anonymous_access(world, client):
    response = client.get("/api/v1/sites/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401


def test_session_login_works_for_the_browsable_api(world, client):
    assert client.login(request=HttpRequest(), username="alice", password=PASSWORD)
    response = client.get("/api/v1/sites/", HTTP_ACCEPT="application/json")
    assert world.site_a.pk in {s["id"] for s in response.json()["results"]}


def test_the_login_endpoint_is_throttled_even_behind_forged_proxy_headers(
    world, client, monkeypatch
):
    # DRF reads the rates once at import; patch the class instead of the settings.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})

    cache.clear()
    statuses = [
        client.post(
            URL, {"username": "alice", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        ).status_code
        for i in range(5)
    ]
    cache.clear()
    assert statuses == [400, 400, 400, 429, 429]
