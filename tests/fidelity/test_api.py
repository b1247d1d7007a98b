"""Node health through the API: the status field and filter, history, counts; tenancy."""

from datetime import timedelta

from django.utils import timezone

from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.fidelity.sweep import sweep
from sensorgrid.inventory.models import Node


def make_states(world):
    """node_a ALIVE, node_b (org B) DEAD, public_node MISSING (interval 300 s)."""
    now = timezone.now()
    Node.objects.filter(pk=world.node_a.pk).update(last_seen=now)
    Node.objects.filter(pk=world.public_node.pk).update(last_seen=now - timedelta(minutes=30))
    Node.objects.filter(pk=world.node_b.pk).update(last_seen=now - timedelta(days=3))
    sweep(now=now)


def test_every_node_resource_carries_its_status(world, client_for):
    make_states(world)
    body = client_for(world.alice).get(f"/api/v1/nodes/{world.node_a.pk}/").json()
    assert body["status"] == "ALIVE"
    assert body["status_since"] is not None
    fresh = client_for(world.alice).post(
        "/api/v1/nodes/", {"organization": world.org_a.pk, "device_id": "brand-new"}
    )
    assert fresh.json()["status"] == "UNKNOWN"


def test_nodes_can_be_filtered_by_status(world, client_for):
    make_states(world)
    alice = client_for(world.alice)
    missing = alice.get("/api/v1/nodes/?status=MISSING").json()["results"]
    assert [n["device_id"] for n in missing] == [world.public_node.device_id]
    assert alice.get("/api/v1/nodes/?status=DEAD").json()["results"] == []  # B's is not hers
    wrong = alice.get("/api/v1/nodes/?status=SLEEPING")
    assert wrong.status_code == 400
    assert "SLEEPING" in wrong.json()["status"][0]


def test_status_is_read_only(world, client_for):
    response = client_for(world.alice).patch(
        f"/api/v1/nodes/{world.node_a.pk}/", {"status": "DEAD"}, format="json"
    )
    assert response.status_code == 200
    assert Node.objects.get(pk=world.node_a.pk).status == "UNKNOWN"


def test_the_history_lists_transitions_newest_first(world, client_for):
    t0 = timezone.now()
    Node.objects.filter(pk=world.node_a.pk).update(last_seen=t0)
    sweep(now=t0)
    sweep(now=t0 + timedelta(minutes=20))
    sweep(now=t0 + timedelta(hours=3))
    response = client_for(world.bob).get(f"/api/v1/nodes/{world.node_a.pk}/status-history/")
    assert response.status_code == 200
    changes = [(c["from_status"], c["to_status"]) for c in response.json()["results"]]
    assert changes == [("MISSING", "DEAD"), ("ALIVE", "MISSING"), ("UNKNOWN", "ALIVE")]


def test_the_history_of_a_foreign_node_is_404(world, client_for):
    make_states(world)
    for user in (world.charlie, None):
        url = f"/api/v1/nodes/{world.node_a.pk}/status-history/"
        assert client_for(user).get(url).status_code == 404
    # a public installation publishes values, not the health history of the device
    public = f"/api/v1/nodes/{world.public_node.pk}/status-history/"
    assert client_for(None).get(public).status_code == 404


def test_counts_per_organization_list_every_state(world, client_for):
    make_states(world)
    alice = client_for(world.alice).get("/api/v1/node-status/").json()
    assert alice == [
        {
            "organization": world.org_a.pk,
            "slug": "org-a",
            "total": 2,
            "counts": {"UNKNOWN": 0, "ALIVE": 1, "MISSING": 1, "DEAD": 0},
        }
    ]
    charlie = client_for(world.charlie).get("/api/v1/node-status/").json()
    assert [(c["slug"], c["counts"]["DEAD"]) for c in charlie] == [("org-b", 1)]
    assert client_for(None).get("/api/v1/node-status/").json() == []


def test_the_admin_history_shows_only_the_users_organizations(world, client):
    make_states(world)
    world.charlie.is_staff = True
    world.charlie.save(update_fields=["is_staff"])
    client.force_login(world.charlie)
    body = client.get("/admin/fidelity/nodestatuschange/").content.decode()
    assert "secretB-node" in body
    assert "secretA" not in body
    change = NodeStatusChange.objects.filter(node=world.node_b).first()
    url = f"/admin/fidelity/nodestatuschange/{change.pk}/change/"
    assert client.get(url).status_code == 200  # viewable, read only
    assert client.post(url, {"to_status": "ALIVE"}).status_code == 403
