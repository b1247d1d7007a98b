from django.core.management import call_command
from django.http import HttpRequest

from sensorgrid.inventory.models import Installation, Node, Site
from sensorgrid.tenancy.models import Membership, Organization, User


def counts():
    return [m.objects.count() for m in (Organization, Membership, Site, Node, Installation)]


def test_loaddemo_is_idempotent_and_users_can_sign_in(db, client):
    call_command("loaddemo", "--password", "pw-for-this-test")
    first = counts()
    call_command("loaddemo", "--password", "pw-for-this-test")
    assert counts() == first
    assert first[0] == 2 and first[3] >= 4
    assert Installation.objects.filter(is_public=True).count() == 1
    for username in ("alice", "bob", "charlie"):
        assert client.login(request=HttpRequest(), username=username, password="pw-for-this-test")


def test_demo_personas_see_their_own_world(db, client):
    call_command("loaddemo")
    client.login(request=HttpRequest(), username="charlie", password="demo-password")
    nodes = client.get("/api/v1/nodes/").json()["results"]
    assert nodes and {n["organization"] for n in nodes} == {
        Organization.objects.get(slug="harbour-offices").pk
    }
    client.logout()
    public = client.get("/api/v1/installations/").json()["results"]
    assert len(public) == 1 and public[0]["is_public"]


def test_the_demo_has_an_operator_apart_from_the_organization_users(db, client):
    call_command("loaddemo", "--password", "pw-for-this-test")
    operator = User.objects.get(username="operator")
    assert operator.is_superuser and operator.is_staff
    assert not Membership.objects.filter(user=operator).exists()
    for username in ("alice", "bob", "charlie"):
        assert not User.objects.get(username=username).is_superuser
    assert operator.check_password("pw-for-this-test")
    client.force_login(operator)
    assert client.get("/status/").context["status"].platform  # every organization


def test_the_demo_banner_prints_the_operator(db):
    from io import StringIO

    from sensorgrid.inventory import demo
    from sensorgrid.runtime.management.commands.demo import Command

    summary = demo.load("pw")
    out = StringIO()
    command = Command(stdout=out)
    command._banner("127.0.0.1", 8000, "pw", summary, "mqtt://127.0.0.1:1883")
    text = out.getvalue()
    assert "alice, bob, charlie" in text
    assert "operator   operator / same password" in text
    assert "public     http://127.0.0.1:8000/public/" in text  # live data without a login
