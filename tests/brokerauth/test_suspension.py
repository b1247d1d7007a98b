"""Suspending an organization revokes its nodes at the broker, unsuspending gives them
back with the same credentials (issue 20): through the outbox, after commit.

Mosquitto with the dynamic security plugin, throwaway on a free port (conftest.py).
The demo's embedded broker is tested in test_embedded.py.
"""

import pytest
from django.utils import timezone

from sensorgrid.brokerauth import apply
from sensorgrid.brokerauth.models import Action, BrokerChange
from tests import factories as f
from tests.brokerauth.devices import Device, connack
from tests.brokerauth.test_lifecycle import OK, REFUSED, applied, new_node

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def outbox(settings, dynsec_broker):
    settings.SENSORGRID_BROKER_AUTH = "dynsec"
    settings.SENSORGRID_BROKER_APPLY_AT_ONCE = False
    settings.SENSORGRID_BROKER_TIMEOUT = 5.0
    return dynsec_broker


def set_suspended(organization, suspended: bool) -> None:
    organization.suspended_at = timezone.now() if suspended else None
    organization.save(update_fields=["suspended_at"])


def test_suspension_refuses_the_nodes_and_unsuspension_lets_the_same_credentials_in(outbox):
    org = f.OrganizationFactory()
    mine = [new_node(organization=org) for _ in range(2)]
    f.NodeFactory(organization=org)  # without a credential: nothing to queue
    other, other_credential = new_node()
    applied()
    apply.reconcile()  # the deployment's first sync (a fresh broker allows receiving)
    device = Device(outbox.url_for(mine[0][0].broker_username, mine[0][1]))
    assert device.connect() == OK
    try:
        set_suspended(org, True)
        queued = BrokerChange.objects.values_list("action", flat=True)
        assert list(queued) == [Action.DISABLE, Action.DISABLE]
        assert not device.thrown_off(0.5)  # the broker does not know before the worker
        assert applied() == 2
        assert device.thrown_off()
    finally:
        device.close()
    for node, credential in mine:
        assert connack(outbox.url_for(node.broker_username, credential)) in REFUSED
    assert connack(outbox.url_for(other.broker_username, other_credential)) == OK
    assert not apply.reconcile()  # the reconcile agrees: the clients stay disabled

    # a node made while suspended gets its password, disabled
    late, late_credential = new_node(organization=org)
    applied()
    assert connack(outbox.url_for(late.broker_username, late_credential)) in REFUSED

    set_suspended(org, False)
    assert applied() == 3  # every node with a credential, the one made meanwhile too
    for node, credential in [*mine, (late, late_credential)]:
        assert connack(outbox.url_for(node.broker_username, credential)) == OK
    assert not apply.reconcile()


def test_saving_without_a_change_of_suspension_queues_nothing(outbox):
    org = f.OrganizationFactory()
    new_node(organization=org)
    applied()
    org.name = "renamed"
    org.save()
    assert not BrokerChange.objects.exists()
