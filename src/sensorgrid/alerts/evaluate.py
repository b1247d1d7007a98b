"""Evaluating rules incrementally: from committed samples, health changes and the clock.

- ``after_ingest`` (a consumer of ingest's ``Committed``): the batch's rows, grouped
  per rule and series, are stepped through the rule kind with the series' remembered
  state (one query to load the states, one write per changed state). History is never
  rescanned.
- ``after_status_change`` (a consumer of fidelity's ``StatusChanged``): node-health rules.
- ``check_no_data`` (the worker, every minute): no-data rules.

Opening or resolving an alert writes the alert, its deliveries (the outbox) and
the state in one transaction, and announces ``AlertChanged`` after commit.
Every function takes ``now`` so tests control the clock.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sensorgrid.alerts import deliveries, rules
from sensorgrid.alerts.events import announce_on_commit
from sensorgrid.alerts.models import Alert, AlertRule, AlertState, Channel, RuleKind
from sensorgrid.alerts.rules.base import Action, Memory
from sensorgrid.alerts.scope import RuleRef, index, nodes_in_scope
from sensorgrid.fidelity.events import StatusChanged
from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.ingest.events import Committed
from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.telemetry.models import Latest

log = logging.getLogger(__name__)

SeriesKey = tuple[int, int, int | None]  # rule, node, quantity


# ---------------------------------------------------------------- the alert lifecycle


def payload_of(alert: Alert, event: str) -> dict:
    node = Node.objects.only("device_id", "alias").get(pk=alert.node_id)
    quantity = Quantity.objects.get(pk=alert.quantity_id) if alert.quantity_id else None
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {
        "event": event,
        "alert": {
            "id": alert.pk,
            "rule": {"id": alert.rule_id, "name": alert.rule.name, "kind": alert.rule.kind},
            "organization": alert.organization_id,
            "severity": alert.severity,
            "message": alert.message,
            "node": {"id": node.pk, "device_id": node.device_id, "alias": node.alias},
            "quantity": quantity.key if quantity else None,
            "unit": quantity.unit if quantity else None,
            "started_at": iso(alert.started_at),
            "opened_at": iso(alert.opened_at),
            "resolved_at": iso(alert.resolved_at),
            "last_value": alert.last_value,
            "last_ts": iso(alert.last_ts),
        },
    }


def notify(alert: Alert, event: str, now: datetime) -> None:
    """Outbox rows for the rule's enabled channels, in the current transaction."""
    rule = alert.rule
    if event == "alert.resolved" and not rule.notify_resolved:
        return
    channels = list(Channel.objects.filter(rules=rule, enabled=True))
    if not channels:
        return
    payload = payload_of(alert, event)
    for channel in channels:
        deliveries.enqueue(channel, event, payload, now, alert=alert)


def open_alert(
    rule: AlertRule,
    node_id: int,
    quantity_id: int | None,
    started_at: datetime,
    opened_at: datetime,
    value: float | None,
    detail: str,
    now: datetime,
) -> Alert:
    alert = Alert.objects.create(
        organization_id=rule.organization_id,
        rule=rule,
        node_id=node_id,
        quantity_id=quantity_id,
        severity=rule.severity,
        message=f"{rule.name}: {detail}"[:500] if detail else rule.name[:500],
        started_at=started_at,
        opened_at=opened_at,
        last_value=value,
        last_ts=opened_at if value is not None else None,
    )
    notify(alert, "alert.opened", now)
    announce_on_commit(alert, "opened")
    return alert


def resolve_alert(alert: Alert, at: datetime, value: float | None, now: datetime) -> None:
    if alert.resolved_at is not None:
        return
    alert.resolved_at = at
    fields = ["resolved_at"]
    if value is not None:
        alert.last_value, alert.last_ts = value, at
        fields += ["last_value", "last_ts"]
    alert.save(update_fields=fields)
    notify(alert, "alert.resolved", now)
    announce_on_commit(alert, "resolved")


def acknowledge(alert: Alert, user, now: datetime | None = None) -> bool:
    """Mark acknowledged (once; later calls change nothing). Returns whether it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now, acknowledged_by=user
        )
        if changed:
            alert.refresh_from_db()
            announce_on_commit(alert, "acknowledged")
    return bool(changed)


# ---------------------------------------------------------------- states


def _memory(state: AlertState) -> Memory:
    return Memory(
        last_ts=state.last_ts,
        last_value=state.last_value,
        pending_since=state.pending_since,
        is_open=state.alert_id is not None,
        extra=state.memory or {},
    )


def _locked_states(keys: set[SeriesKey]) -> dict[SeriesKey, AlertState]:
    """The states of these series, created if missing, locked until the transaction ends."""

    def load() -> dict[SeriesKey, AlertState]:
        q = Q(pk__in=[])
        by_rule_quantity: dict[tuple[int, int | None], set[int]] = defaultdict(set)
        for rule_id, node_id, quantity_id in keys:
            by_rule_quantity[(rule_id, quantity_id)].add(node_id)
        for (rule_id, quantity_id), nodes in by_rule_quantity.items():
            q |= Q(rule_id=rule_id, quantity_id=quantity_id, node_id__in=nodes)
        found = AlertState.objects.select_for_update(of=("self",)).filter(q).select_related("alert")
        return {(s.rule_id, s.node_id, s.quantity_id): s for s in found}

    states = load()
    missing = keys - set(states)
    if missing:
        AlertState.objects.bulk_create(
            [AlertState(rule_id=r, node_id=n, quantity_id=q) for r, n, q in missing],
            ignore_conflicts=True,
        )
        states = load()
    return states


def _save(state: AlertState, memory: Memory, alert: Alert | None) -> None:
    state.last_ts, state.last_value = memory.last_ts, memory.last_value
    state.pending_since, state.memory, state.alert = memory.pending_since, memory.extra, alert
    state.save(
        update_fields=["last_ts", "last_value", "pending_since", "memory", "alert", "updated_at"]
    )


# ---------------------------------------------------------------- samples


def after_ingest(report: Committed) -> None:
    """The ingest hook: evaluate the batch's samples against the rules watching them."""
    if not report.rows or not index.any():
        return
    groups: dict[SeriesKey, list[tuple[datetime, float]]] = defaultdict(list)
    refs: dict[int, RuleRef] = {}
    for row in report.rows:
        for ref in index.for_node(row.node_id):
            if ref.quantity_id == row.quantity_id and ref.kind != RuleKind.NODE_HEALTH:
                groups[(ref.id, row.node_id, row.quantity_id)].append((row.ts, row.value))
                refs[ref.id] = ref
    if groups:
        evaluate_samples(groups, timezone.now())


def evaluate_samples(
    groups: dict[SeriesKey, list[tuple[datetime, float]]], now: datetime
) -> list[Alert]:
    """Step each series' samples (in time order) through its rule; returns alerts changed."""
    touched: list[Alert] = []
    with transaction.atomic():
        rules_by_id = AlertRule.objects.filter(
            pk__in={rule_id for rule_id, _, _ in groups}, enabled=True
        ).in_bulk()
        keys = {key for key in groups if key[0] in rules_by_id}
        if not keys:
            return touched
        states = _locked_states(keys)
        for key in sorted(keys):
            rule, state = rules_by_id[key[0]], states[key]
            samples = sorted(groups[key])
            if rule.kind == RuleKind.NO_DATA:
                touched += _data_arrived(rule, state, samples[-1], now)
            else:
                touched += _step_series(rule, state, samples, now)
    return touched


def _step_series(rule: AlertRule, state: AlertState, samples, now: datetime) -> list[Alert]:
    kind = rules.get(rule.kind)
    memory, alert, before = _memory(state), state.alert, _memory(state)
    touched = []
    for ts, value in samples:
        verdict = kind.step(rule.params, memory, ts, value)
        memory = verdict.memory
        if verdict.action is Action.OPEN:
            started = verdict.started_at or ts  # a kind that does not say: this sample
            alert = open_alert(
                rule, state.node_id, state.quantity_id, started, ts, value, verdict.detail, now,
            )  # fmt: skip
            touched.append(alert)
        elif verdict.action is Action.RESOLVE and alert is not None:
            resolve_alert(alert, ts, value, now)
            touched.append(alert)
            alert = None
    if alert is not None and memory.last_ts != before.last_ts:
        Alert.objects.filter(pk=alert.pk).update(
            last_value=memory.last_value, last_ts=memory.last_ts
        )
    if memory != before or alert != state.alert:
        _save(state, memory, alert)
    return touched


def _data_arrived(rule: AlertRule, state: AlertState, newest, now: datetime) -> list[Alert]:
    ts, value = newest
    if state.last_ts is not None and ts <= state.last_ts:
        return []
    memory = replace(_memory(state), last_ts=ts, last_value=value)
    alert = state.alert
    recent = (now - ts).total_seconds() < rule.params["for_seconds"]
    touched = []
    if alert is not None and recent:
        resolve_alert(alert, ts, value, now)
        touched.append(alert)
        alert = None
    _save(state, memory, alert)
    return touched


# ---------------------------------------------------------------- no data


def check_no_data(now: datetime | None = None) -> list[Alert]:
    """Open (and resolve) no-data alerts: one read of the newest values per rule."""
    now = now or timezone.now()
    touched: list[Alert] = []
    for rule in AlertRule.objects.filter(enabled=True, kind=RuleKind.NO_DATA).order_by("pk"):
        try:
            touched += _check_rule(rule, now)
        except Exception:  # one broken rule must not hide the others
            log.exception("no-data rule %s failed", rule.pk)
    return touched


def _check_rule(rule: AlertRule, now: datetime) -> list[Alert]:
    if rule.quantity_id is None:  # refused when saved: a no-data rule watches a quantity
        return []
    limit = timedelta(seconds=rule.params["for_seconds"])
    node_ids = list(nodes_in_scope(rule, now))
    newest = dict(
        Latest.objects.filter(node_id__in=node_ids, quantity_id=rule.quantity_id).values_list(
            "node_id", "ts"
        )
    )
    touched: list[Alert] = []
    with transaction.atomic():
        states = _locked_states({(rule.pk, n, rule.quantity_id) for n in node_ids})
        for node_id in node_ids:
            state = states[(rule.pk, node_id, rule.quantity_id)]
            last = newest.get(node_id)
            since = last or rule.created_at
            silent = now - since >= limit
            if silent and state.alert is None:
                detail = f"no data since {last:%Y-%m-%d %H:%M:%S}Z" if last else "no data yet"
                alert = open_alert(rule, node_id, rule.quantity_id, since, now, None, detail, now)
                state.alert = alert
                state.save(update_fields=["alert", "updated_at"])
                touched.append(alert)
            elif not silent and state.alert is not None:
                # Not silent with no data at all: only a rule whose limit grew; over now.
                resolve_alert(state.alert, last or now, None, now)
                touched.append(state.alert)
                state.alert = None
                state.save(update_fields=["alert", "updated_at"])
    return touched


# ---------------------------------------------------------------- node health


def after_status_change(changed: StatusChanged) -> None:
    """``StatusChanged`` consumer: node-health rules."""
    evaluate_health(changed.changes, timezone.now())


def evaluate_health(changes: Iterable[NodeStatusChange], now: datetime) -> list[Alert]:
    wanted: dict[SeriesKey, NodeStatusChange] = {}
    for change in changes:
        for ref in index.for_node(change.node_id):
            if ref.kind == RuleKind.NODE_HEALTH:
                wanted[(ref.id, change.node_id, None)] = change  # the newest change wins
    if not wanted:
        return []
    touched: list[Alert] = []
    with transaction.atomic():
        rules_by_id = AlertRule.objects.filter(
            pk__in={k[0] for k in wanted}, enabled=True
        ).in_bulk()
        keys = {k for k in wanted if k[0] in rules_by_id}
        states = _locked_states(keys)
        for key in sorted(keys):
            rule, state, change = rules_by_id[key[0]], states[key], wanted[key]
            bad = change.to_status in rule.params.get("statuses", ())
            if bad and state.alert is None:
                state.alert = open_alert(
                    rule, state.node_id, None, change.at, change.at, None,
                    f"node is {change.to_status}", now,
                )  # fmt: skip
                touched.append(state.alert)
            elif bad and state.alert is not None:
                Alert.objects.filter(pk=state.alert.pk).update(
                    message=f"{rule.name}: node is {change.to_status}"[:500]
                )
            elif state.alert is not None:
                resolve_alert(state.alert, change.at, None, now)
                touched.append(state.alert)
                state.alert = None
            state.save(update_fields=["alert", "updated_at"])
    return touched


# ---------------------------------------------------------------- rule changes


def reset_rule(rule: AlertRule, now: datetime) -> int:
    """After a rule's meaning changed: resolve its open alerts, forget its series' states."""
    with transaction.atomic():
        open_alerts = list(Alert.objects.open().filter(rule=rule).select_related("rule"))
        AlertState.objects.filter(rule=rule).delete()
        for alert in open_alerts:
            resolve_alert(alert, now, None, now)
    return len(open_alerts)
