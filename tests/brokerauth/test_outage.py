"""A broker outage loses no change: 100 nodes created, rotated and deleted while the
broker is down all reach it in order once it is back; /metrics shows them waiting."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sensorgrid.brokerauth import apply
from sensorgrid.brokerauth.dynsec import Dynsec
from sensorgrid.brokerauth.models import BrokerChange, ChangeStatus
from tests import factories as f
from tests.brokerauth.devices import connack

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def outbox(settings, dynsec_broker):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    settings.SENSORGRID_BROKER_TIMEOUT = 3.0
    settings.SENSORGRID_BROKER_RETRY_BASE = 5
    return dynsec_broker


def metrics(client) -> dict[str, float]:
    values = {}
    for family in text_string_to_metric_families(client.get("/metrics").content.decode()):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
    return values


def test_changes_made_while_the_broker_is_down_all_reach_it_in_order(outbox, client):
    outbox.stop()
    org = f.OrganizationFactory()
    nodes, credentials = [], {}
    for i in range(100):
        node = f.NodeFactory.build(organization=org, device_id=f"dev-{i:03d}")
        credentials[i] = [node.issue_credential()]
        node.save()
        nodes.append(node)
    usernames = [node.broker_username for node in nodes]
    for i in range(0, 100, 2):  # every second node rotates twice
        for _ in range(2):
            credentials[i].append(nodes[i].issue_credential())
            nodes[i].save(update_fields=["credential_digest"])
    deleted = {i for i in range(0, 100, 4)} | {i for i in range(1, 100, 10)}
    for i in sorted(deleted):
        nodes[i].delete()
    queued = BrokerChange.objects.count()
    assert queued == 100 + 100 + len(deleted)

    assert apply.apply_due() == 0  # down: nothing applied, nothing lost
    rows = BrokerChange.objects.all()
    assert rows.count() == queued
    assert set(rows.values_list("status", flat=True)) == {ChangeStatus.PENDING}
    tried = rows.exclude(last_error="")
    assert tried.count() == 1 and tried.get().attempts == 1  # one attempt, not 250 timeouts
    assert "cannot reach the broker" in tried.get().last_error
    seen = metrics(client)
    assert seen["sensorgrid_broker_changes{status=pending}"] == queued
    assert seen["sensorgrid_broker_oldest_pending_seconds"] > 0
    assert seen["sensorgrid_broker_apply_failures_total{reason=unreachable}"] >= 1

    outbox.start()
    later = timezone.now() + timedelta(minutes=10)  # past the backoff
    assert apply.apply_due(now=later) == queued
    assert not BrokerChange.objects.exists()  # passwords gone with their rows
    assert metrics(client)["sensorgrid_broker_changes{status=pending}"] == 0

    with Dynsec.from_settings() as dynsec:  # the broker restarted: a new admin connection
        clients = set(dynsec.run({"command": "listClients"})["clients"])
    survivors = {usernames[i] for i in range(100) if i not in deleted}
    assert {name for name in clients if name.startswith("node-")} == survivors
    for i, username in enumerate(usernames):
        *old, last = credentials[i]
        expected = "Success" if i not in deleted else "Not authorized"
        assert connack(outbox.url_for(username, last)) == expected, (i, username)
        for stale in old:
            assert connack(outbox.url_for(username, stale)) == "Not authorized", (i, username)
