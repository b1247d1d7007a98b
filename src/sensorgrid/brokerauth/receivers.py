"""Model signals that queue broker changes in the transaction of the change (outbox.py).

Nodes: creation, a new credential (rotation, or enabling a disabled node), disabling
(its credential digest blanked), a new device id (its topics change) and deletion,
also the deletions an organization's deletion cascades to (Django sends ``post_delete``
for each node). Routes: any saved or deleted ``MqttRoute`` queues one ``routes`` change,
which the worker expands into every node's role. Organizations: suspending one queues
``disable`` for each of its nodes with a credential, unsuspending ``enable``.

The unbound routes' topics of a device id belong to its first node (acl.py): when that
node is deleted or takes another id, or a node with a lower pk takes the id, the topics
move to another node (of another organization), whose role is queued too (``upsert``).

The plaintext credential comes from ``Node.issue_credential()``, which leaves it on the
instance (``_issued_credential``) for the next save; this receiver takes it off again.
Changes made around the signals (``QuerySet.update``, raw SQL) are not seen: the
periodic reconcile repairs roles and disabled clients, not passwords it never saw.
Connected by ``BrokerAuthConfig.ready()``.
"""

from django.db.models.signals import post_delete, post_save, pre_save

from sensorgrid.brokerauth import acl, outbox
from sensorgrid.brokerauth.models import Action
from sensorgrid.ingest.models import MqttRoute
from sensorgrid.inventory.models import Node
from sensorgrid.tenancy.models import Organization

_BEFORE = "_broker_before"  # (device id, credential digest) as the database had them
_ISSUED = "_issued_credential"  # set by Node.issue_credential()
_SUSPENDED_BEFORE = "_broker_suspended_before"  # whether the database had it suspended


def node_saving(sender, instance: Node, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or instance._state.adding or not outbox.enabled():
        return
    if update_fields is not None and not {"device_id", "credential_digest"} & set(update_fields):
        return
    before = Node.objects.filter(pk=instance.pk).values_list("device_id", "credential_digest")
    instance.__dict__[_BEFORE] = before.first()


def node_saved(
    sender, instance: Node, created: bool, raw: bool = False, update_fields=None, **kwargs
) -> None:
    credential = instance.__dict__.pop(_ISSUED, None)
    before = instance.__dict__.pop(_BEFORE, None)
    if raw or not outbox.enabled():
        return
    username = instance.broker_username
    if created:
        # Without a credential yet, the client is created disabled.
        outbox.enqueue(Action.UPSERT, username, credential, node_id=instance.pk)
        return
    if credential:
        outbox.enqueue(Action.PASSWORD, username, credential, node_id=instance.pk)
    elif before is not None and before[1] and not instance.credential_digest:
        outbox.enqueue(Action.DISABLE, username, node_id=instance.pk)
    if before is not None and before[0] != instance.device_id:
        outbox.enqueue(Action.UPSERT, username, node_id=instance.pk)
        _moved(instance.pk, before[0], instance.device_id)


def node_deleted(sender, instance: Node, **kwargs) -> None:
    if outbox.enabled():
        outbox.enqueue(Action.DELETE, instance.broker_username, node_id=instance.pk)
        _moved(instance.pk, instance.device_id)


def _moved(pk: int, *device_ids: str) -> None:
    """Queue the role of each node that gains or loses an id's unbound topics because
    node ``pk`` left (deleted, renamed) or took them (renamed): the id's first node other
    than ``pk``, if it comes after ``pk`` (before it, nothing changed for it)."""
    others = {acl.first_node_id(device_id, other_than=pk) for device_id in device_ids}
    for other in sorted(o for o in others if o is not None and o > pk):
        outbox.enqueue(Action.UPSERT, Node(pk=other).broker_username, node_id=other)


def organization_saving(
    sender, instance: Organization, raw: bool = False, update_fields=None, **kwargs
) -> None:
    if raw or instance._state.adding or not outbox.enabled():
        return
    if update_fields is not None and "suspended_at" not in update_fields:
        return  # an owner's edit leaves the suspension as the database has it
    before = Organization.objects.filter(pk=instance.pk).values_list("suspended_at", flat=True)
    instance.__dict__[_SUSPENDED_BEFORE] = before.first() is not None


def organization_saved(
    sender, instance: Organization, created: bool, raw: bool = False, **kwargs
) -> None:
    """Suspending disables each of its nodes' clients, unsuspending enables them again
    (they kept their passwords); nodes without a credential stay disabled either way."""
    before = instance.__dict__.pop(_SUSPENDED_BEFORE, None)
    if raw or created or before is None or before == instance.suspended:
        return
    action = Action.DISABLE if instance.suspended else Action.ENABLE
    nodes = Node.objects.filter(organization=instance).exclude(credential_digest="")
    for pk in nodes.order_by("pk").values_list("pk", flat=True):
        outbox.enqueue(action, Node(pk=pk).broker_username, node_id=pk)


def route_changed(sender, instance: MqttRoute, raw: bool = False, **kwargs) -> None:
    if not raw and outbox.enabled():
        outbox.enqueue(Action.ROUTES)


def connect() -> None:
    uid = "sensorgrid.brokerauth"
    pre_save.connect(node_saving, sender=Node, dispatch_uid=uid)
    post_save.connect(node_saved, sender=Node, dispatch_uid=uid)
    post_delete.connect(node_deleted, sender=Node, dispatch_uid=uid)
    post_save.connect(route_changed, sender=MqttRoute, dispatch_uid=uid)
    pre_save.connect(organization_saving, sender=Organization, dispatch_uid=uid)
    post_save.connect(organization_saved, sender=Organization, dispatch_uid=uid)
    post_delete.connect(route_changed, sender=MqttRoute, dispatch_uid=uid)
