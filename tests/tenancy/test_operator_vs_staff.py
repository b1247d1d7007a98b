"""``is_staff`` opens the admin, scoped like the API; only superusers cross organizations.

dave is staff without any membership, bob is staff and inspector of org A, root is a
superuser (a platform operator). Org B's dead letter and the one nobody can claim carry
"secretB" / "secretX" in their device ids, so a leak shows in any page.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from sensorgrid.telemetry.models import DeadLetter


def letter(org, device_id: str) -> DeadLetter:
    now = timezone.now()
    names = {field.name for field in DeadLetter._meta.fields}
    extra = {"last_received_at": now} if "last_received_at" in names else {}
    return DeadLetter.objects.create(
        received_at=now, source="http", topic="/api/v1/ingest/", decoder="json",
        payload=b'{"secret": "payload"}', reason="unknown-device", device_id=device_id,
        organization=org, **extra,
    )  # fmt: skip


@pytest.fixture
def letters(world):
    world.bob.is_staff = True
    world.bob.save(update_fields=["is_staff"])
    return {
        "a": letter(world.org_a, "secretA-letter"),
        "b": letter(world.org_b, "secretB-letter"),
        "x": letter(None, "secretX-orphan"),
    }


@pytest.mark.parametrize("persona", ["dave", "bob"])
def test_staff_cannot_read_or_replay_foreign_dead_letters_through_the_api(
    world, letters, client_for, persona
):
    client = client_for(getattr(world, persona))
    listed = {row["device_id"] for row in client.get("/api/v1/dead-letters/").json()["results"]}
    assert listed == ({"secretA-letter"} if persona == "bob" else set())
    for key in ("b", "x"):
        pk = letters[key].pk
        assert client.get(reverse("deadletter-detail", args=[pk])).status_code == 404
        assert client.post(reverse("deadletter-replay", args=[pk])).status_code == 404
    # An inspector sees his organization's letter but may not replay it.
    if persona == "bob":
        replay = client.post(reverse("deadletter-replay", args=[letters["a"].pk]))
        assert replay.status_code == 403
    assert DeadLetter.objects.filter(replay_count__gt=0).count() == 0


@pytest.mark.parametrize("persona", ["dave", "bob"])
def test_staff_cannot_read_foreign_dead_letters_in_the_admin(world, letters, client, persona):
    client.force_login(getattr(world, persona))
    body = client.get("/admin/telemetry/deadletter/").content.decode()
    assert "secretB" not in body and "secretX" not in body
    for key in ("b", "x"):
        url = f"/admin/telemetry/deadletter/{letters[key].pk}/change/"
        response = client.get(url)
        assert response.status_code == 302  # Django's "doesn't exist" redirect
        assert "secret" not in response.content.decode()
    # The replay action only reaches letters the admin lists, which are scoped.
    client.post(
        "/admin/telemetry/deadletter/",
        {"action": "replay_selected", "_selected_action": [letters["b"].pk, letters["x"].pk]},
    )
    assert DeadLetter.objects.filter(replay_count__gt=0).count() == 0


@pytest.mark.parametrize("persona", ["dave", "bob"])
def test_staff_cannot_read_foreign_dead_letters_on_the_status_page(world, letters, client, persona):
    client.force_login(getattr(world, persona))
    data = client.get("/status/").context["status"]
    expected = [("unknown-device", 1)] if persona == "bob" else []
    assert [(t.key, t.count) for t in data.dead_letters_by_reason] == expected
    assert not data.platform


def test_the_operator_reads_and_replays_every_dead_letter(world, letters, client_for, client):
    api = client_for(world.root)
    listed = {row["device_id"] for row in api.get("/api/v1/dead-letters/").json()["results"]}
    assert listed == {"secretA-letter", "secretB-letter", "secretX-orphan"}
    replay = api.post(reverse("deadletter-replay", args=[letters["x"].pk]))
    assert replay.status_code == 200
    client.force_login(world.root)
    body = client.get("/admin/telemetry/deadletter/").content.decode()
    assert "secretB-letter" in body and "secretX-orphan" in body
    data = client.get("/status/").context["status"]
    assert data.platform and sum(t.count for t in data.dead_letters_by_reason) == 3
