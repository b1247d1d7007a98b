"""Identical refusals are counted on one letter, and letters expire (issue 16, item 10).

One 1 MiB request of the same bad line used to file ~25,000 dead letters, and none was
ever pruned.
"""

import json
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from sensorgrid.ingest.models import IngestKey
from sensorgrid.telemetry import tasks
from sensorgrid.telemetry.models import DeadLetter
from tests.ingest.conftest import hours_ago

LINE = json.dumps({"device": "ghost", "ts": hours_ago(1).isoformat(), "values": {"co2": 1}})


def gateway(organization) -> APIClient:
    key = IngestKey(organization=organization, name="gateway")
    secret = key.issue()
    key.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def post(client, lines: list[str]):
    body = "\n".join(lines).encode()
    return client.post("/api/v1/ingest/", body, content_type="application/x-ndjson")


def test_a_one_mebibyte_flood_of_one_refusal_is_one_counted_letter(world, client_for):
    lines = [LINE] * (1024 * 1024 // (len(LINE) + 1))
    response = post(gateway(world.org_a), lines)
    assert response.status_code == 200
    assert len(response.json()["rejected"]) == len(lines)  # the sender still learns each
    letter = DeadLetter.objects.get()
    assert letter.count == len(lines) > 10_000
    row = client_for(world.alice).get("/api/v1/dead-letters/").json()["results"][0]
    assert (row["count"], row["last_received_at"] is not None) == (len(lines), True)


def test_identical_refusals_of_later_requests_are_counted_too(world):
    client = gateway(world.org_a)
    for _ in range(3):
        post(client, [LINE])
    letter = DeadLetter.objects.get()
    assert letter.count == 3 and letter.last_received_at >= letter.received_at


def test_different_payloads_or_senders_stay_separate_letters(world):
    post(gateway(world.org_a), [LINE, LINE.replace('"co2": 1', '"co2": 2')])
    post(gateway(world.org_a), [LINE])  # another key: another sender
    post(gateway(world.org_b), [LINE])
    assert sorted(DeadLetter.objects.values_list("count", flat=True)) == [1, 1, 1, 1]


def test_a_resolved_letter_is_not_counted_again(world):
    client = gateway(world.org_a)
    post(client, [LINE])
    DeadLetter.objects.update(resolved_at=timezone.now())
    post(client, [LINE])
    assert DeadLetter.objects.filter(resolved_at__isnull=True).get().count == 1


def make_letters(world) -> tuple[DeadLetter, DeadLetter]:
    old = fresh = None
    for days, tag in ((31, "old"), (29, "fresh")):
        post(gateway(world.org_a), [LINE.replace("ghost", tag)])
        letter = DeadLetter.objects.latest("pk")
        then = timezone.now() - timedelta(days=days)
        DeadLetter.objects.filter(pk=letter.pk).update(received_at=then, last_received_at=then)
        old, fresh = (letter, fresh) if tag == "old" else (old, letter)
    return old, fresh


def test_the_prune_command_deletes_letters_past_the_retention(world, settings, capsys):
    settings.SENSORGRID_DEAD_LETTER_RETENTION_DAYS = 30
    _old, fresh = make_letters(world)
    call_command("prune")
    assert "dead letters: 1 deleted" in capsys.readouterr().out
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_the_workers_periodic_task_prunes_dead_letters(world, settings):
    settings.SENSORGRID_DEAD_LETTER_RETENTION_DAYS = 30
    old, _fresh = make_letters(world)
    assert tasks.prune_dead_letters.call_local() == 1
    assert not DeadLetter.objects.filter(pk=old.pk).exists()


def test_a_letter_refused_again_lately_is_kept(world, settings):
    settings.SENSORGRID_DEAD_LETTER_RETENTION_DAYS = 30
    old, _ = make_letters(world)
    DeadLetter.objects.filter(pk=old.pk).update(last_received_at=timezone.now())
    call_command("prune")
    assert DeadLetter.objects.filter(pk=old.pk).exists()


def test_zero_days_keeps_every_letter(world, settings):
    settings.SENSORGRID_DEAD_LETTER_RETENTION_DAYS = 0
    make_letters(world)
    call_command("prune")
    assert DeadLetter.objects.count() == 2
