"""Dead letters of my organizations in the dashboard (Django test client): the list with
filters and paging, the detail with the payload escaped and cut, replay for owners only,
the wall between organizations and bad parameters."""

import re
from datetime import UTC, datetime

import pytest

from sensorgrid.dashboard.lists import dead_letter_query, table
from sensorgrid.ingest.envelope import Authority
from sensorgrid.telemetry.models import DeadLetter, Sample
from tests import factories as f
from tests.telemetry.test_deadletters import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def letters(world):
    """Org A: an unknown device and an out-of-range value; org B and nobody: one each."""
    send("new-sensor-a", Authority(world.org_a.pk))
    send("secretA-node", Authority(world.org_a.pk, world.node_a.pk), co2=-5)
    send("secretB-sensor", Authority(world.org_b.pk))
    send("stray-sensor")
    DeadLetter.objects.filter(device_id="new-sensor-a").update(
        received_at=datetime(2026, 5, 1, 12, tzinfo=UTC)
    )
    return {letter.device_id: letter for letter in DeadLetter.objects.all()}


def devices(response) -> list[str]:
    body = response.content.decode()
    return re.findall(
        r"<tr data-letter=\"\d+\">.*?<td><code>[^<]*</code></td>\s*<td>(?:<code>)?([^<]*)",
        body,
        re.S,
    )


def test_alice_lists_her_organizations_letters_newest_first_and_nothing_foreign(
    client, world, letters
):
    client.force_login(world.alice)
    response = client.get("/dead-letters/")
    assert response.status_code == 200
    page = response.content.decode()
    assert devices(response) == ["secretA-node", "new-sensor-a"]
    assert "secretB" not in page and "stray-sensor" not in page
    assert "<caption" in page and 'scope="col"' in page and "unknown-device" in page
    assert 'href="/dead-letters/"' in client.get("/nodes/").content.decode()


def test_an_operator_sees_every_letter_and_charlie_only_org_bs(client, world, letters):
    client.force_login(world.root)
    assert set(devices(client.get("/dead-letters/"))) == set(letters)
    client.force_login(world.charlie)
    assert devices(client.get("/dead-letters/")) == ["secretB-sensor"]
    assert client.get(f"/dead-letters/{letters['new-sensor-a'].pk}/").status_code == 404
    replay = client.post(f"/dead-letters/{letters['new-sensor-a'].pk}/replay/")
    assert replay.status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("reason=unknown-device", ["new-sensor-a"]),
        ("reason=out-of-range", ["secretA-node"]),
        ("device=NEW-sensor", ["new-sensor-a"]),
        ("since=2026-05-01T00:00&until=2026-05-02T00:00", ["new-sensor-a"]),
        ("since=2026-05-02T00:00", ["secretA-node"]),
        ("state=open", ["secretA-node", "new-sensor-a"]),
        ("state=resolved", []),
    ],
)
def test_each_filter(client, world, letters, query, expected):
    client.force_login(world.bob)
    response = client.get("/dead-letters/?" + query)
    assert response.status_code == 200
    assert devices(response) == expected


def test_paging(client, world, letters, monkeypatch):
    monkeypatch.setattr(table, "PER_PAGE", 1)
    client.force_login(world.alice)
    first = client.get("/dead-letters/")
    assert "1–1 of 2" in first.content.decode() and 'href="?page=2"' in first.content.decode()
    second = client.get("/dead-letters/?page=2")
    assert devices(first) + devices(second) == ["secretA-node", "new-sensor-a"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("reason=lost-in-space", "Select a valid choice"),
        ("since=yesterday", "Enter a valid date/time"),
        ("since=2026-05-02T00:00&until=2026-05-01T00:00", "must be before"),
        ("page=3", "There is no page 3"),
        ("page=-1", "greater than or equal to 1"),
    ],
)
def test_bad_parameters_give_the_page_with_a_message(client, world, letters, query, message):
    client.force_login(world.alice)
    response = client.get("/dead-letters/?" + query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_detail_shows_the_payload_escaped_and_cut(client, world, letters, monkeypatch):
    letter = letters["new-sensor-a"]
    DeadLetter.objects.filter(pk=letter.pk).update(
        payload=b"<script>alert(1)</script>" + b"x" * 100
    )
    monkeypatch.setattr(dead_letter_query, "PAYLOAD_SHOWN", 40)
    client.force_login(world.bob)
    page = client.get(f"/dead-letters/{letter.pk}/").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;xxxxxxxxxxxxxxx</pre>" in page
    assert "125 bytes" in page and "only the beginning is shown" in page
    DeadLetter.objects.filter(pk=letter.pk).update(payload=b"\xff\xfe\x00binary")
    page = client.get(f"/dead-letters/{letter.pk}/").content.decode()
    assert "binary: shown as base64" in page and "//4AYmluYXJ5" in page


def test_bob_the_inspector_sees_no_replay_button_and_may_not_post_one(client, world, letters):
    letter = letters["new-sensor-a"]
    client.force_login(world.bob)
    page = client.get(f"/dead-letters/{letter.pk}/").content.decode()
    assert "unknown-device" in page and "/replay/" not in page
    assert client.post(f"/dead-letters/{letter.pk}/replay/").status_code == 403
    letter.refresh_from_db()
    assert letter.replay_count == 0


def test_alice_replays_after_registering_the_device_and_the_values_are_stored(
    client, world, letters
):
    letter = letters["new-sensor-a"]
    client.force_login(world.alice)
    page = client.get(f"/dead-letters/{letter.pk}/").content.decode()
    assert f'action="/dead-letters/{letter.pk}/replay/"' in page
    failed = client.post(f"/dead-letters/{letter.pk}/replay/", follow=True).content.decode()
    assert "Replayed, still refused: unknown-device" in failed
    f.NodeFactory(organization=world.org_a, device_id="new-sensor-a")
    response = client.post(f"/dead-letters/{letter.pk}/replay/", follow=True)
    page = response.content.decode()
    assert "Replayed: stored 1 value(s)" in page and "resolved by a replay" in page
    assert "/replay/" not in page  # nothing left to replay
    assert Sample.objects.filter(node__device_id="new-sensor-a").count() == 1
    assert client.get(f"/dead-letters/{letter.pk}/replay/").status_code == 405


def test_anonymous_visitors_are_sent_to_login(client, letters):
    letter = next(iter(letters.values()))
    for path in ("/dead-letters/", f"/dead-letters/{letter.pk}/"):
        assert client.get(path).url.startswith("/login/?next=")
    assert client.post(f"/dead-letters/{letter.pk}/replay/").status_code == 302
    assert DeadLetter.objects.get(pk=letter.pk).replay_count == 0
