import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests import factories as f
from tests.ingest.conftest import envelope, hours_ago


def send(device: str, authority: Authority | None = None, **values):
    message = {"device": device, "ts": hours_ago(1).isoformat(), "values": values or {"co2": 600}}
    return pipeline.ingest(envelope(json.dumps(message).encode(), authority), "json")


@pytest.fixture
def letters(world):
    """One dead letter of org A (unknown device sent with an org A credential), one of
    org B, and one nobody can claim (no credential)."""
    send("new-sensor-a", Authority(world.org_a.pk))
    send("new-sensor-b", Authority(world.org_b.pk))
    send("stray-sensor")
    return {letter.device_id: letter for letter in DeadLetter.objects.all()}


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("alice", {"new-sensor-a"}),
        ("bob", {"new-sensor-a"}),
        ("charlie", {"new-sensor-b"}),
        ("dave", set()),  # staff without membership: staff only opens the admin
        ("root", {"new-sensor-a", "new-sensor-b", "stray-sensor"}),
        (None, set()),
    ],
)
def test_members_see_their_dead_letters_and_operators_see_all(
    world, letters, client_for, persona, visible
):
    client = client_for(getattr(world, persona) if persona else None)
    rows = client.get("/api/v1/dead-letters/").json()["results"]
    assert {row["device_id"] for row in rows} == visible
    foreign = letters["new-sensor-b"]
    status = client.get(reverse("deadletter-detail", args=[foreign.pk])).status_code
    assert status == (200 if "new-sensor-b" in visible else 404)


def test_registering_the_device_then_replaying_stores_the_values(world, letters, client_for):
    letter = letters["new-sensor-a"]
    assert letter.reason == "unknown-device"
    f.NodeFactory(organization=world.org_a, device_id="new-sensor-a")
    response = client_for(world.alice).post(reverse("deadletter-replay", args=[letter.pk]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stored"] is True and body["accepted"] == 1
    assert body["dead_letter"]["resolved_at"] is not None
    assert Sample.objects.filter(node__device_id="new-sensor-a").count() == 1
    assert DeadLetter.objects.count() == 3  # no new letter was filed


def test_a_replay_that_still_fails_updates_the_letter(world, letters, client_for):
    letter = letters["new-sensor-a"]
    response = client_for(world.alice).post(reverse("deadletter-replay", args=[letter.pk]))
    assert response.json()["stored"] is False
    letter.refresh_from_db()
    assert (letter.replay_count, letter.resolved_at) == (1, None)
    assert DeadLetter.objects.count() == 3


def test_a_replay_cannot_write_into_another_organization(world, letters):
    # org B's letter names a device that later appears in org A: B still has no such node.
    f.NodeFactory(organization=world.org_a, device_id="new-sensor-b")
    call_command("replay", "--reason", "unknown-device")
    letter = DeadLetter.objects.get(device_id="new-sensor-b")
    assert letter.reason == "unknown-device" and letter.resolved_at is None
    assert letter.organization_id == world.org_b.pk
    assert not Sample.objects.filter(node__device_id="new-sensor-b").exists()


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("charlie", 404), (None, 401)])
def test_only_owners_replay(world, letters, client_for, persona, status):
    client = client_for(getattr(world, persona) if persona else None)
    url = reverse("deadletter-replay", args=[letters["new-sensor-a"].pk])
    assert client.post(url).status_code == status


def test_the_replay_command_filters_by_reason_and_device(world, letters, capsys):
    f.NodeFactory(organization=world.org_a, device_id="new-sensor-a")
    call_command("replay", "--reason", "unknown-device", "--device", "new-sensor-a")
    assert "1 stored" in capsys.readouterr().out
    assert DeadLetter.objects.filter(resolved_at__isnull=True).count() == 2


def test_binary_payloads_are_shown_as_base64(world, client_for):
    pipeline.ingest(envelope(b"\xff\xfe\x00", Authority(world.org_a.pk)), "json")
    row = client_for(world.alice).get("/api/v1/dead-letters/").json()["results"][0]
    assert row["encoding"] == "base64" and row["payload"] == "//4A"
    assert row["reason"] == "malformed"


def test_dead_letters_filter_by_reason(world, letters, client_for):
    send(world.node_a.device_id, Authority(world.org_a.pk), co2=-1)
    client = client_for(world.alice)
    rows = client.get("/api/v1/dead-letters/", {"reason": "out-of-range"}).json()["results"]
    assert [row["reason"] for row in rows] == ["out-of-range"]
    assert client.get("/api/v1/dead-letters/", {"reason": "nonsense"}).status_code == 400
