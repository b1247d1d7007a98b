"""``node_health``: the node's health state (device health, docs/operations.md).

Parameters: ``statuses`` (default ``["MISSING", "DEAD"]``). Opens when the node
enters one of them, resolves when it leaves them all (usually: ALIVE again). A node
going from MISSING to DEAD keeps its one open alert. Evaluated on fidelity's
``StatusChanged`` event (``evaluate.after_status_change``), so no quantity is needed.
"""

from sensorgrid.alerts.rules.base import Kind, ParamError, no_unknown
from sensorgrid.inventory.models import NodeStatus

ALERTABLE = (NodeStatus.MISSING, NodeStatus.DEAD, NodeStatus.UNKNOWN)


class NodeHealth(Kind):
    key = "node_health"
    sample_driven = False
    needs_quantity = False

    def validate(self, params: dict) -> dict:
        errors: dict[str, str] = {}
        no_unknown(params, {"statuses"}, errors)
        statuses = params.get("statuses", [NodeStatus.MISSING.value, NodeStatus.DEAD.value])
        if (
            not isinstance(statuses, list)
            or not statuses
            or any(s not in [a.value for a in ALERTABLE] for s in statuses)
        ):
            errors["statuses"] = "A non-empty list of MISSING, DEAD, UNKNOWN."
        if errors:
            raise ParamError(errors)
        return {"statuses": sorted(set(statuses))}
