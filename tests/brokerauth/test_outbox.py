"""The broker outbox in the database: what is queued, in which order it is claimed, and
that a queued password is never readable there (no broker needed)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from sensorgrid.brokerauth import apply, lease, outbox
from sensorgrid.brokerauth.models import Action, BrokerChange, ChangeStatus, Lease
from sensorgrid.ingest.models import MqttRoute
from tests import factories as f


@pytest.fixture
def queued(settings):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    settings.SENSORGRID_BROKER_RETRY_BASE = 5
    settings.SENSORGRID_BROKER_RETRY_MAX = 300


def actions() -> list[tuple[str, str]]:
    return list(BrokerChange.objects.order_by("pk").values_list("action", "username"))


def rotate(node) -> str:
    credential = node.issue_credential()
    node.save(update_fields=["credential_digest"])
    return credential


@pytest.mark.django_db
def test_with_broker_auth_off_nothing_is_queued(settings):
    assert settings.SENSORGRID_BROKER_AUTH == "off"  # the default
    node = f.NodeFactory()
    rotate(node)
    node.credential_digest = ""
    node.save()
    route = MqttRoute.objects.create(pattern="x/{device}", decoder="json")
    route.delete()
    node.organization.delete()
    assert not BrokerChange.objects.exists()


@pytest.mark.django_db
def test_each_change_of_a_node_is_queued_in_order(queued):
    node = f.NodeFactory()
    name = node.broker_username
    rotate(node)  # creation's credential
    rotate(node)  # rotation
    node.alias = "renamed"
    node.save()  # nothing the broker knows
    node.credential_digest = ""
    node.save(update_fields=["credential_digest"])  # disable
    node.save()  # disabled already: nothing more
    rotate(node)  # enable
    node.device_id = "new-id"
    node.save()  # its topics move
    node.delete()
    assert actions() == [
        (Action.UPSERT, name),
        (Action.PASSWORD, name),
        (Action.PASSWORD, name),
        (Action.DISABLE, name),
        (Action.PASSWORD, name),
        (Action.UPSERT, name),
        (Action.DELETE, name),
    ]


@pytest.mark.django_db
def test_a_node_created_with_its_credential_queues_one_upsert_with_the_password(queued):
    node = f.NodeFactory.build(organization=f.OrganizationFactory())
    credential = node.issue_credential()
    node.save()
    change = BrokerChange.objects.get()
    assert (change.action, change.username) == (Action.UPSERT, node.broker_username)
    assert outbox.unseal(change.secret) == credential
    assert not hasattr(node, "_issued_credential")  # taken off the instance


@pytest.mark.django_db
def test_route_changes_and_organization_deletion_are_queued(queued):
    org = f.OrganizationFactory()
    nodes = f.NodeFactory.create_batch(3, organization=org)
    BrokerChange.objects.all().delete()
    route = MqttRoute.objects.create(pattern="x/{device}", decoder="json")
    route.delete()
    assert actions() == [(Action.ROUTES, ""), (Action.ROUTES, "")]
    BrokerChange.objects.all().delete()
    org.delete()
    assert sorted(actions()) == sorted((Action.DELETE, node.broker_username) for node in nodes)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_change_queues_nothing(queued):
    node = f.NodeFactory()
    BrokerChange.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        rotate(node)
        raise RuntimeError
    assert not BrokerChange.objects.exists()


@pytest.mark.django_db
def test_the_queued_password_is_not_readable_in_the_database(queued):
    node = f.NodeFactory()
    credential = rotate(node)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM brokerauth_brokerchange")
        dump = repr(cursor.fetchall())
    assert credential not in dump
    assert credential[-12:] not in dump
    change = BrokerChange.objects.get(action=Action.PASSWORD)
    assert outbox.unseal(change.secret) == credential


@pytest.mark.django_db
def test_a_password_sealed_under_another_key_is_reported_not_guessed(queued, settings):
    node = f.NodeFactory()
    rotate(node)
    change = BrokerChange.objects.get(action=Action.PASSWORD)
    settings.SENSORGRID_BROKER_OUTBOX_KEY = "a key set after the change was queued"
    with pytest.raises(outbox.SecretUnreadable, match="issue the node a new credential"):
        outbox.unseal(change.secret)


def queue(*usernames: str) -> list[BrokerChange]:
    now = timezone.now()
    return [
        BrokerChange.objects.create(username=name, action=Action.UPSERT, next_attempt_at=now)
        for name in usernames
    ]


def claimed_names(now=None, limit=100) -> list[str]:
    return [item.change.username for item in outbox.claim(now or timezone.now(), limit)]


@pytest.mark.django_db
def test_one_usernames_changes_are_claimed_one_at_a_time_in_order(queued):
    first, second, other = queue("node-1", "node-1", "node-2")
    claimed = outbox.claim(timezone.now())
    assert [item.change.pk for item in claimed] == [first.pk, other.pk]
    assert claimed_names() == []  # node-1's second waits for its first
    outbox.applied(claimed[0])
    assert [item.change.pk for item in outbox.claim(timezone.now())] == [second.pk]


@pytest.mark.django_db
def test_a_change_waiting_for_its_backoff_holds_back_the_later_ones(queued):
    first, _ = queue("node-1", "node-1")
    [item] = outbox.claim(timezone.now())
    at = outbox.retry(item, "broker down")
    assert at > timezone.now()
    assert claimed_names() == []  # the second never overtakes the first
    assert claimed_names(now=at + timedelta(seconds=1)) == ["node-1"]
    assert BrokerChange.objects.get(pk=first.pk).status == ChangeStatus.APPLYING


@pytest.mark.django_db
def test_a_refused_change_stops_holding_back_and_keeps_no_password(queued):
    node = f.NodeFactory()
    rotate(node)
    rotate(node)
    now = timezone.now()
    BrokerChange.objects.filter(action=Action.UPSERT).delete()
    [item] = outbox.claim(now)
    outbox.failed(item, "the broker says 'Client not found'")
    failed = BrokerChange.objects.get(pk=item.change.pk)
    assert (failed.status, failed.secret) == (ChangeStatus.FAILED, "")
    assert "Client not found" in failed.last_error
    assert claimed_names() == [node.broker_username]


@pytest.mark.django_db
def test_a_change_of_every_node_is_a_barrier(queued):
    now = timezone.now()
    queue("node-1")
    BrokerChange.objects.create(username="", action=Action.ROUTES, next_attempt_at=now)
    queue("node-2")
    assert claimed_names() == ["node-1"]  # routes waits for node-1, node-2 for routes
    BrokerChange.objects.filter(username="node-1").delete()
    assert claimed_names() == [""]
    BrokerChange.objects.filter(username="").delete()
    assert claimed_names() == ["node-2"]


@pytest.mark.django_db
def test_a_worker_that_died_mid_apply_leaves_the_change_to_another_after_its_lease(
    queued, settings
):
    settings.SENSORGRID_BROKER_LEASE = 60
    queue("node-1", "node-1")
    now = timezone.now()
    [dead] = outbox.claim(now)
    assert claimed_names(now + timedelta(seconds=30)) == []
    [again] = outbox.claim(now + timedelta(seconds=61))
    assert again.change.pk == dead.change.pk and again.change.attempts == 2
    outbox.applied(dead)  # the dead worker's claim is void: nothing happens
    assert BrokerChange.objects.filter(pk=dead.change.pk).exists()
    outbox.applied(again)
    assert not BrokerChange.objects.filter(pk=dead.change.pk).exists()


def test_backoff_doubles_up_to_its_cap(settings):
    settings.SENSORGRID_BROKER_RETRY_BASE = 5
    settings.SENSORGRID_BROKER_RETRY_MAX = 300
    delays = [outbox.backoff(n).total_seconds() for n in range(1, 9)]
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300]


@pytest.mark.django_db
def test_one_transaction_asks_the_worker_once_however_many_changes_it_queued(
    queued, django_capture_on_commit_callbacks
):
    org = f.OrganizationFactory()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        f.NodeFactory.create_batch(5, organization=org)
    assert BrokerChange.objects.count() == 5
    assert callbacks == [outbox.kick]


@pytest.mark.django_db
def test_the_broker_lease_is_held_by_one_at_a_time_and_expires():
    first = lease.take(60)
    assert first is not None
    assert lease.take(60) is None  # the reconcile waits while the applier works
    assert first.renew()
    Lease.objects.update(until=timezone.now() - timedelta(seconds=1))  # its worker died
    second = lease.take(60)
    assert second is not None
    assert not first.renew()  # the dead worker's lease is gone for good
    first.release()  # and releasing it frees nothing
    assert lease.take(60) is None
    second.release()
    assert lease.take(60) is not None


@pytest.mark.django_db
def test_an_applier_finding_the_lease_taken_leaves_the_changes_to_its_holder(queued):
    node = f.NodeFactory()
    rotate(node)
    held = lease.take(60)
    assert apply.apply_due() == 0  # never reaches for the broker
    assert not BrokerChange.objects.exclude(status=ChangeStatus.PENDING).exists()
    held.release()


@pytest.mark.django_db
def test_operators_see_the_outbox_in_the_admin_without_the_password(queued, world):
    node = f.NodeFactory()
    credential = rotate(node)
    change = BrokerChange.objects.get(action=Action.PASSWORD)
    client = Client()
    client.force_login(world.root)
    listing = client.get("/admin/brokerauth/brokerchange/")
    assert listing.status_code == 200 and node.broker_username in listing.content.decode()
    page = client.get(f"/admin/brokerauth/brokerchange/{change.pk}/change/").content.decode()
    assert node.broker_username in page
    assert change.secret not in page and credential not in page
    client.force_login(world.alice)  # an organization's owner: not hers to see
    assert client.get("/admin/brokerauth/brokerchange/").status_code in (302, 403)


@pytest.mark.django_db
def test_without_the_admin_account_the_changes_wait_and_say_why(queued, settings):
    settings.SENSORGRID_MQTT_ADMIN_URL = ""
    settings.SENSORGRID_MQTT_ADMIN_USERNAME = ""
    node = f.NodeFactory()
    rotate(node)
    assert apply.apply_due() == 0
    assert set(BrokerChange.objects.values_list("status", flat=True)) == {ChangeStatus.PENDING}
    tried = BrokerChange.objects.exclude(last_error="").get()
    assert "SENSORGRID_MQTT_ADMIN_USERNAME" in tried.last_error
    assert apply.reconcile_if_due() is None  # logged, not raised in the worker
