"""The status page /status/ and the per-minute ingest counters behind it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sensorgrid.fidelity.sweep import sweep
from sensorgrid.health import ingest_rate, status
from sensorgrid.health.ingest_rate import minute_of
from sensorgrid.health.models import IngestMinute
from sensorgrid.ingest import pipeline
from sensorgrid.inventory.models import Node, NodeStatus
from tests import factories as f
from tests.concurrency import at_once
from tests.ingest.conftest import envelope, hours_ago
from tests.ingest.test_pipeline import body, msg


def page(client, user=None, **params):
    if user is not None:
        client.force_login(user)
    return client.get("/status/", params)


def test_operators_see_components_node_counts_and_the_nodes_that_stopped_sending(world, client):
    now = timezone.now()
    Node.objects.filter(pk=world.node_a.pk).update(
        last_seen=now - timedelta(minutes=15), sampling_interval=300
    )  # 3 intervals without a message: MISSING
    Node.objects.filter(pk=world.node_b.pk).update(
        last_seen=now - timedelta(days=3), sampling_interval=300
    )  # 864 intervals: DEAD
    Node.objects.filter(pk=world.public_node.pk).update(last_seen=now, sampling_interval=300)
    sweep(now=now)

    response = page(client, world.root)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="row">database</th>' in html
    assert '<th scope="row">worker</th>' in html
    assert 'http-equiv="refresh"' not in html  # no timed reload (WCAG 2.2.1): live instead
    assert 'aria-label="Main"' in html and 'aria-current="page">Status<' in html
    data = response.context["status"]
    assert data.node_counts == {"UNKNOWN": 0, "ALIVE": 1, "MISSING": 1, "DEAD": 1}
    troubled = [(n.device_id, n.status, n.organization) for n in data.troubled_nodes]
    assert troubled == [("secretA-node", "MISSING", "Org A"), ("secretB-node", "DEAD", "Org B")]
    assert '<th scope="row">secretA-node</th>' in html
    assert '<span class="badge status-missing">MISSING</span>' in html  # text, not colour only
    assert response.context["live_organizations"] == [world.org_a.pk, world.org_b.pk]


def test_anonymous_visitors_are_sent_to_the_login(world, client):
    response = page(client)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/status/")


def test_an_owner_sees_her_organization_and_a_stranger_sees_none_of_it(world, client):
    """Two organizations; alice (owner of A, no staff) and charlie (owner of B) each see
    their own nodes only: no name, device id or count of the other, not even of A's
    publicly installed node, in the HTML, the JSON or the live subscriptions."""
    stop_nodes_and_file_letters(world)
    Node.objects.filter(pk=world.public_node.pk).update(status=NodeStatus.ALIVE)

    mine = page(client, world.alice)
    assert mine.status_code == 200
    data = mine.context["status"]
    assert data.node_counts == {"UNKNOWN": 0, "ALIVE": 1, "MISSING": 1, "DEAD": 0}
    assert [(n.device_id, n.organization) for n in data.troubled_nodes] == [
        ("secretA-node", "Org A")
    ]
    assert mine.context["live_organizations"] == [world.org_a.pk]
    html = mine.content.decode()
    assert "secretA-node" in html and "secretB" not in html and "Org B" not in html
    assert "secretX" not in html and "unknown-device" not in html  # unclaimed: operators only

    theirs = page(client, world.charlie)
    data = theirs.context["status"]
    assert data.node_counts == {"UNKNOWN": 0, "ALIVE": 0, "MISSING": 0, "DEAD": 1}
    assert theirs.context["live_organizations"] == [world.org_b.pk]
    html = theirs.content.decode()
    for marker in ("secretA", "Org A", "malformed", "secretX"):
        assert marker not in html
    body = page(client, world.charlie, format="json").json()
    assert body["node_counts"] == {"UNKNOWN": 0, "ALIVE": 0, "MISSING": 0, "DEAD": 1}
    assert "secretA" not in str(body) and "Org A" not in str(body)


def test_a_user_without_organization_sees_an_empty_page(world, client):
    loner = f.UserFactory(username="loner")
    stop_nodes_and_file_letters(world)
    response = page(client, loner)
    assert response.status_code == 200
    data = response.context["status"]
    assert sum(data.node_counts.values()) == 0 and data.troubled_nodes == []
    assert data.dead_letters_by_reason == [] and response.context["live_organizations"] == []


def test_dead_letters_of_the_last_hour_are_counted_by_reason_and_source(
    world, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.ingest(envelope(b"{not json"), "json")
        pipeline.ingest(
            envelope(body(msg("nobody", hours_ago(1), co2=1), msg("nobody", hours_ago(1), co2=2))),
            "json",
        )
        pipeline.ingest(envelope(b"{old", received_at=timezone.now() - timedelta(hours=2)), "json")

    response = page(client, world.root)

    data = response.context["status"]
    by_reason = [(t.key, t.count) for t in data.dead_letters_by_reason]
    assert by_reason == [("unknown-device", 2), ("malformed", 1)]  # the 2 h old one is not
    assert [(t.key, t.count) for t in data.dead_letters_by_source] == [("http", 3)]
    assert data.dead_letters_last_hour == 4  # the counters count by commit time
    assert "Payload cannot be parsed" in response.content.decode()


def test_counters_add_up_across_batches_in_the_same_minute(
    world, django_capture_on_commit_callbacks
):
    at = timezone.now().replace(second=10)
    ingest_rate.add(at, 5, 1)
    ingest_rate.add(at + timedelta(seconds=40), 7, 2)
    ingest_rate.add(at + timedelta(minutes=1), 1, 0)
    assert list(IngestMinute.objects.values_list("minute", "value_count", "dead_letter_count")) == [
        (minute_of(at), 12, 3),
        (minute_of(at) + timedelta(minutes=1), 1, 0),
    ]

    IngestMinute.objects.all().delete()
    payload = body(msg(world.node_a.device_id, hours_ago(1), co2=600, temperature=21))
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.ingest(envelope(payload), "json")
        pipeline.ingest(envelope(payload), "json")  # duplicates count as values too
        pipeline.ingest(envelope(b"{not json"), "json")
    totals = [(m.value_count, m.dead_letter_count) for m in IngestMinute.objects.all()]
    assert tuple(map(sum, zip(*totals, strict=True))) == (4, 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps seeded rows
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need a server database"
)
def test_concurrent_writers_lose_no_count():
    at = timezone.now()

    def write():
        for _ in range(25):
            ingest_rate.add(at, 2, 1)

    at_once(write, copies=8)
    row = IngestMinute.objects.get()
    assert (row.value_count, row.dead_letter_count) == (400, 200)


def test_forget_before_deletes_only_older_minutes(db):
    now = timezone.now()
    for n in range(5):
        ingest_rate.add(now - timedelta(minutes=n), 1, 0)
    assert ingest_rate.forget_before(minute_of(now) - timedelta(minutes=2)) == 2
    assert IngestMinute.objects.count() == 3


def spike(baseline_per_minute: int, recent_per_minute: int, values: int = 200, now=None):
    """65 minutes of counters before ``now``'s minute: 60 of baseline, then 5 recent."""
    current = minute_of(now or timezone.now())
    IngestMinute.objects.bulk_create(
        IngestMinute(
            minute=current - timedelta(minutes=n),
            value_count=values,
            dead_letter_count=recent_per_minute if n <= 5 else baseline_per_minute,
        )
        for n in range(1, 66)
    )


def test_a_dead_letter_spike_shows_a_warning(world, client):
    spike(baseline_per_minute=1, recent_per_minute=60)
    response = page(client, world.root)
    html = response.content.decode()
    assert "dead letters far above the recent baseline" in html
    assert "<title>⚠ Status · SensorGrid</title>" in html
    firing = {f.metric for f in response.context["status"].firing}
    assert firing == {"dead_letters_per_minute", "error_rate"}


def test_a_steady_rate_shows_no_warning(world, client):
    spike(baseline_per_minute=20, recent_per_minute=20)
    response = page(client, world.root)
    assert response.context["status"].firing == []
    assert "No warnings" in response.content.decode()


def test_the_last_hour_chart_has_one_bar_per_minute(world, client):
    now = timezone.now()
    spike(baseline_per_minute=0, recent_per_minute=0, now=now)
    data = status.gather(now)
    assert len(data.ingest) == 60 and data.ingest[-1].minute == minute_of(now)
    assert data.values_last_hour == 59 * 200  # the current minute has no row yet
    html = page(client, world.root).content.decode()
    assert html.count('<rect class="bar') == 60


def test_scripts_get_the_same_numbers_as_json(world, client):
    spike(baseline_per_minute=1, recent_per_minute=60)
    response = page(client, world.root, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["firing"] == ["dead_letters_per_minute", "error_rate"]
    assert {c["name"]: c["status"] for c in body["components"]}["database"] == "ok"
    assert set(body["node_counts"]) == {s.value for s in NodeStatus}
    assert len(body["ingest"]) == 60


# -- staff is no operator (issue 16, item 2) ---------------------------------------------


def stop_nodes_and_file_letters(world):
    """node_a MISSING, node_b DEAD; a dead letter of A, of B and one nobody can claim."""
    from sensorgrid.telemetry.models import DeadLetter

    now = timezone.now()
    Node.objects.filter(pk=world.node_a.pk).update(
        last_seen=now - timedelta(minutes=15), sampling_interval=300
    )
    Node.objects.filter(pk=world.node_b.pk).update(
        last_seen=now - timedelta(days=3), sampling_interval=300
    )
    sweep(now=now)
    # (last_received_at comes with the dead-letter counting of another change: fill it if there)
    names = {field.name for field in DeadLetter._meta.fields}
    extra = {"last_received_at": now} if "last_received_at" in names else {}
    for org, device, reason in (
        (world.org_a, "secretA-letter", "malformed"),
        (world.org_b, "secretB-letter", "bad-timestamp"),
        (None, "secretX-orphan", "unknown-device"),
    ):
        DeadLetter.objects.create(
            received_at=now, source="http", topic="/api/v1/ingest/", decoder="json",
            payload=b"{}", reason=reason, device_id=device, organization=org, **extra,
        )  # fmt: skip


def test_staff_without_membership_sees_no_organizations_nodes_or_letters(world, client):
    stop_nodes_and_file_letters(world)
    spike(baseline_per_minute=1, recent_per_minute=60)
    response = page(client, world.dave)
    assert response.status_code == 200
    data = response.context["status"]
    assert data.troubled_nodes == [] and sum(data.node_counts.values()) == 0
    assert data.dead_letters_by_reason == [] and data.dead_letters_last_hour == 0
    assert data.ingest == [] and data.findings == ()  # platform-wide: operators only
    html = response.content.decode()
    for marker in ("secretA", "secretB", "Org A", "Org B", "far above"):
        assert marker not in html
    assert "Your organizations only" in html
    body = page(client, world.dave, format="json").json()
    assert body["troubled_nodes"] == [] and body["dead_letters_by_reason"] == []


def test_a_staff_inspector_sees_only_his_organizations_nodes_and_letters(
    world, client, django_capture_on_commit_callbacks
):
    world.bob.is_staff = True
    world.bob.save(update_fields=["is_staff"])
    stop_nodes_and_file_letters(world)
    response = page(client, world.bob)
    data = response.context["status"]
    assert [(n.device_id, n.organization) for n in data.troubled_nodes] == [
        ("secretA-node", "Org A")
    ]
    assert [(t.key, t.count) for t in data.dead_letters_by_reason] == [("malformed", 1)]
    html = response.content.decode()
    assert "secretB" not in html and "Org B" not in html


def test_the_operator_sees_every_organization_and_unclaimed_letters(world, client):
    stop_nodes_and_file_letters(world)
    data = page(client, world.root).context["status"]
    assert {n.device_id for n in data.troubled_nodes} == {"secretA-node", "secretB-node"}
    assert {t.key for t in data.dead_letters_by_reason} == {
        "malformed", "bad-timestamp", "unknown-device"
    }  # fmt: skip
    assert data.platform
