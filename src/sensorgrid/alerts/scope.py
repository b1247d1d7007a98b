"""Which enabled rules watch which node: an in-process index for the ingest hook.

The index is rebuilt at most every ``SENSORGRID_ALERTS_RULE_CACHE_TTL`` seconds (one
query per enabled rule) and cleared at once in this process when a rule, node or
installation is saved or deleted; other processes see a change within the TTL. With
no enabled rule, the hook costs one dict lookup per batch.
"""

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from sensorgrid.alerts.models import AlertRule, Scope
from sensorgrid.inventory.models import Installation, Node


@dataclass(frozen=True, slots=True)
class RuleRef:
    id: int
    organization_id: int
    kind: str
    quantity_id: int | None
    params: dict
    severity: str
    name: str


def ttl() -> float:
    return float(settings.SENSORGRID_ALERTS_RULE_CACHE_TTL)


def nodes_in_scope(rule: AlertRule, now: datetime | None = None):
    """Ids of the nodes ``rule`` watches (always of the rule's organization)."""
    now = now or timezone.now()
    nodes = Node.objects.filter(organization_id=rule.organization_id)
    if rule.scope == Scope.NODE:
        return nodes.filter(pk=rule.node_id).values_list("pk", flat=True)
    if rule.scope == Scope.NODE_MODEL:
        return nodes.filter(model_id=rule.node_model_id).values_list("pk", flat=True)
    if rule.scope in (Scope.ROOM, Scope.SITE):
        where = (
            {"room_id": rule.room_id}
            if rule.scope == Scope.ROOM
            else {"room__site_id": rule.site_id}
        )
        current = Installation.objects.active(now).filter(**where)
        return nodes.filter(pk__in=current.values("node_id")).values_list("pk", flat=True)
    return nodes.values_list("pk", flat=True)


class _Index:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_node: dict[int, tuple[RuleRef, ...]] = {}
        self._expires = 0.0

    def for_node(self, node_id: int) -> tuple[RuleRef, ...]:
        return self._current().get(node_id, ())

    def any(self) -> bool:
        return bool(self._current())

    def _current(self) -> dict[int, tuple[RuleRef, ...]]:
        if time.monotonic() >= self._expires:
            by_node: dict[int, list[RuleRef]] = {}
            for rule in AlertRule.objects.filter(enabled=True).order_by("pk"):
                ref = RuleRef(
                    rule.pk,
                    rule.organization_id,
                    rule.kind,
                    rule.quantity_id,
                    rule.params,
                    rule.severity,
                    rule.name,
                )
                for node_id in nodes_in_scope(rule):
                    by_node.setdefault(node_id, []).append(ref)
            with self._lock:
                self._by_node = {k: tuple(v) for k, v in by_node.items()}
                self._expires = time.monotonic() + ttl()
        return self._by_node

    def clear(self) -> None:
        with self._lock:
            self._expires = 0.0


index = _Index()


def _changed(sender, **kwargs) -> None:
    index.clear()


def connect_invalidation() -> None:
    for model in (AlertRule, Node, Installation):
        for signal in (post_save, post_delete):
            signal.connect(_changed, sender=model, dispatch_uid=f"alerts-index-{model.__name__}")
    m2m_changed.connect(
        _changed, sender=AlertRule.channels.through, dispatch_uid="alerts-index-m2m"
    )
