"""The ``image_outlier`` alert rule kind: a picture the node's outlier model flags.

The kind registers itself with the alerts app's rule kinds (``alerts.rules.base.REGISTRY``)
when this app is ready; the alerts app knows nothing of pictures. Rules of this kind
watch nodes (no quantity), in any of the usual scopes. Parameters:

- ``names``: the image names it watches (default ``[]``: every name);
- ``clear_after``: how many normal pictures in a row resolve an open alert (default 1).

Stepped by ``service.score_image`` inside the transaction that stores a score: an
outlier opens an alert for the rule and node (or updates the open one), normal pictures
resolve it. Alerts, deliveries (the outbox) and the live event are the alerts app's own.

Acknowledging an outlier (the outlier page, the API) acknowledges the open alert it is
part of (``acknowledge_alerts``): the alert is "these pictures are unusual", so having
looked at one of them is having looked at the alert. Later outliers update the same
alert; they stay to be acknowledged on their own.
"""

from __future__ import annotations

from datetime import datetime

from sensorgrid.alerts import evaluate
from sensorgrid.alerts.models import Alert, AlertRule, AlertState
from sensorgrid.alerts.rules.base import Kind, Memory, ParamError, no_unknown, number
from sensorgrid.alerts.scope import index

KEY = "image_outlier"


def acknowledge_alerts(score, user, now: datetime) -> list[Alert]:
    """Acknowledge the open ``image_outlier`` alerts of ``score``'s node that this
    outlier is part of (its time within the alert's [started_at, last_ts]); returns
    those acknowledged now."""
    candidates = Alert.objects.open().filter(
        node_id=score.node_id,
        rule__kind=KEY,
        acknowledged_at__isnull=True,
        started_at__lte=score.ts,
        last_ts__gte=score.ts,
    )
    done = []
    for alert in candidates.select_related("rule"):
        names = (alert.rule.params or {}).get("names") or []
        if (not names or score.name in names) and evaluate.acknowledge(alert, user, now):
            done.append(alert)
    return done


class ImageOutlier(Kind):
    key = KEY
    sample_driven = False
    needs_quantity = False

    def validate(self, params: dict) -> dict:
        errors: dict[str, str] = {}
        no_unknown(params, {"names", "clear_after"}, errors)
        names = params.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            errors["names"] = "A list of image names (empty: every name)."
            names = []
        clear_after = number(params, "clear_after", errors, default=1, minimum=1)
        if clear_after is not None and clear_after != int(clear_after):
            errors["clear_after"] = "Must be a whole number."
        if errors:
            raise ParamError(errors)
        return {"names": sorted({n.strip() for n in names}), "clear_after": int(clear_after)}

    def judge(self, params: dict, memory: Memory, ts: datetime, value: float):
        raise NotImplementedError("image_outlier rules are stepped by the outliers app")


def step(score, organization_id: int) -> list[Alert]:
    """Step the rules watching ``score``'s node with its verdict (inside its transaction)."""
    refs = [
        ref
        for ref in index.for_node(score.node_id)
        if ref.kind == KEY and (not ref.params.get("names") or score.name in ref.params["names"])
    ]
    if not refs:
        return []
    now = score.scored_at
    touched: list[Alert] = []
    rules = AlertRule.objects.filter(pk__in=[r.id for r in refs], enabled=True).in_bulk()
    for rule_id in sorted(rules):
        rule = rules[rule_id]
        AlertState.objects.get_or_create(rule=rule, node_id=score.node_id, quantity=None)
        state = (
            AlertState.objects.select_for_update(of=("self",))
            .select_related("alert")
            .get(rule=rule, node_id=score.node_id, quantity=None)
        )
        if state.last_ts is not None and score.ts < state.last_ts:
            continue  # an older picture scored late says nothing of now
        memory = dict(state.memory or {})
        detail = (
            f"picture {score.name!r} at {score.ts:%Y-%m-%d %H:%M:%S}Z is an outlier "
            f"(error {score.score:.3g} > threshold {score.threshold:.3g})"
        )
        alert = state.alert
        if score.is_outlier:
            memory["normal_in_row"] = 0
            if alert is None:
                alert = evaluate.open_alert(
                    rule, score.node_id, None, score.ts, score.ts, score.score, detail, now
                )
                touched.append(alert)
            else:
                Alert.objects.filter(pk=alert.pk).update(
                    last_value=score.score,
                    last_ts=score.ts,
                    message=f"{rule.name}: {detail}"[:500],
                )
        else:
            memory["normal_in_row"] = memory.get("normal_in_row", 0) + 1
            if alert is not None and memory["normal_in_row"] >= rule.params.get("clear_after", 1):
                evaluate.resolve_alert(alert, score.ts, score.score, now)
                touched.append(alert)
                alert = None
        memory["image_id"] = score.image_id
        state.last_ts, state.last_value = score.ts, score.score
        state.memory, state.alert = memory, alert
        state.save(update_fields=["last_ts", "last_value", "memory", "alert", "updated_at"])
    return touched
