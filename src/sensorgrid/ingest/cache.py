"""In-process directories of nodes and quantities for the hot path.

A lookup costs a dict access; misses go to the database once and are cached for
``TTL`` seconds (unknown device ids too, briefly, so a flood of them cannot hammer
the database). Saving or deleting a node clears this process's entry at once,
saving a node model (its codec) clears every node; other processes see the change
within the TTL.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save

from sensorgrid.inventory.device_ids import canonical

TTL = 60.0
UNKNOWN_TTL = 5.0


@dataclass(frozen=True, slots=True)
class NodeRef:
    id: int
    organization_id: int
    #: key of the node model's codec for binary frames ("" if the node has none)
    codec: str = ""
    #: its organization is suspended (tenancy): its messages are refused
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class QuantityRef:
    id: int
    key: str
    min_value: float | None
    max_value: float | None


#: Expiry of an entry that was never loaded or was cleared. Stamps are expiries, not
#: load times: ``time.monotonic()`` counts from machine boot, so "loaded at 0.0" looked
#: fresh to a process started within a TTL of boot (a systemd service), which then
#: refused every value as an unknown quantity for a minute.
EXPIRED = float("-inf")


class Directory:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._nodes: dict[str, tuple[float, tuple[NodeRef, ...]]] = {}
        self._quantities: dict[str, QuantityRef] = {}
        self._quantities_expire = EXPIRED

    def nodes(self, device_ids: set[str]) -> dict[str, tuple[NodeRef, ...]]:
        """The nodes of these device ids, in every organization (one per organization).

        Keys are the ids as asked; a DevEUI is looked up in its one stored spelling
        (``inventory.device_ids``). Unknown ids are absent. Which of several nodes a
        message is for is the pipeline's decision: the sender's organization's.
        """
        from sensorgrid.inventory.models import Node

        now = self._clock()
        wanted = {device_id: canonical(device_id) for device_id in device_ids}
        found: dict[str, tuple[NodeRef, ...]] = {}
        missing = set()
        with self._lock:
            for stored in set(wanted.values()):
                entry = self._nodes.get(stored)
                if entry is not None and entry[0] > now:
                    if entry[1]:
                        found[stored] = entry[1]
                else:
                    missing.add(stored)
        if missing:
            rows = Node.objects.filter(device_id__in=missing).values_list(
                "device_id", "id", "organization_id", "model__codec", "organization__suspended_at"
            )
            loaded: dict[str, list[NodeRef]] = {}
            for device_id, pk, org, codec, suspended_at in rows.order_by("pk"):
                ref = NodeRef(pk, org, codec or "", suspended_at is not None)
                loaded.setdefault(device_id, []).append(ref)
            with self._lock:
                for stored in missing:
                    refs = tuple(loaded.get(stored, ()))
                    self._nodes[stored] = (now + (TTL if refs else UNKNOWN_TTL), refs)
                    if refs:
                        found[stored] = refs
        return {asked: found[stored] for asked, stored in wanted.items() if stored in found}

    def quantities(self) -> dict[str, QuantityRef]:
        from sensorgrid.inventory.models import Quantity

        if self._clock() >= self._quantities_expire:
            rows = Quantity.objects.values_list("id", "key", "min_value", "max_value")
            quantities = {key: QuantityRef(pk, key, low, high) for pk, key, low, high in rows}
            with self._lock:
                self._quantities = quantities
                self._quantities_expire = self._clock() + TTL
        return self._quantities

    def forget_node(self, device_id: str) -> None:
        with self._lock:
            self._nodes.pop(canonical(device_id), None)

    def forget_nodes(self) -> None:
        with self._lock:
            self._nodes.clear()

    def clear(self) -> None:
        with self._lock:
            self._nodes.clear()
            self._quantities_expire = EXPIRED


directory = Directory()


def _node_changed(sender: object, instance: Any, **kwargs: object) -> None:
    directory.forget_node(instance.device_id)


def _node_model_changed(sender: object, instance: object, **kwargs: object) -> None:
    directory.forget_nodes()  # the codec of any number of nodes may have changed


def _quantity_changed(sender: object, instance: object, **kwargs: object) -> None:
    directory.clear()


def connect_invalidation() -> None:
    from sensorgrid.inventory.models import Node, NodeModel, Quantity
    from sensorgrid.tenancy.models import Organization

    # suspending or unsuspending changes every node of the organization
    post_save.connect(_node_model_changed, sender=Organization, dispatch_uid="ingest-org-cache")

    for signal in (post_save, post_delete):
        signal.connect(_node_changed, sender=Node, dispatch_uid="ingest-node-cache")
        signal.connect(
            _node_model_changed, sender=NodeModel, dispatch_uid="ingest-node-model-cache"
        )
        signal.connect(_quantity_changed, sender=Quantity, dispatch_uid="ingest-quantity-cache")
