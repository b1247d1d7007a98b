from django.core.management import call_command

from sensorgrid.inventory.models import Installation, Node, Site
from sensorgrid.tenancy.models import Membership, Organization


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
        assert client.login(username=username, password="pw-for-this-test")


def test_demo_personas_see_their_own_world(db, client):
    call_command("loaddemo")
    client.login(username="charlie", password="demo-password")
    nodes = client.get("/api/v1/nodes/").json()["results"]
    assert nodes and {n["organization"] for n in nodes} == {
        Organization.objects.get(slug="harbour-offices").pk
    }
    client.logout()
    public = client.get("/api/v1/installations/").json()["results"]
    assert len(public) == 1 and public[0]["is_public"]
