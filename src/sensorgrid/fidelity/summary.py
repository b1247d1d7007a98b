"""How many nodes are in each health state."""

from django.db.models import Count, QuerySet

from sensorgrid.inventory.models import Node, NodeStatus


def counts(nodes: QuerySet[Node]) -> dict[str, int]:
    """Every state with its count, zeros included, so a dashboard needs no defaults."""
    found = dict(nodes.order_by().values_list("status").annotate(n=Count("pk")))
    return {status.value: found.get(status.value, 0) for status in NodeStatus}


def counts_by_organization(nodes: QuerySet[Node]) -> dict[int, dict[str, int]]:
    rows = nodes.order_by().values_list("organization_id", "status").annotate(n=Count("pk"))
    result: dict[int, dict[str, int]] = {}
    for organization_id, status, n in rows:
        per = result.setdefault(organization_id, {s.value: 0 for s in NodeStatus})
        per[status] = n
    return result
