"""Which nodes a live subscription covers, by the API's tenancy rules (docs/dashboard.md).

Members of a node's organization (and superusers) see it; everybody sees a node while
it has an active public installation (``Node.objects.readable_by``). Site, room,
organization and installation subscriptions expand to the visible nodes currently
installed there (organization: members get all its nodes). ``None`` means "not found":
unknown and foreign look alike.
"""

from datetime import datetime

from django.utils import timezone

from sensorgrid.inventory.models import Installation, Node, Room, Site
from sensorgrid.storable import MAX_ID
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import Action, organization_ids, sees_everything

KINDS = ("node", "site", "room", "organization", "installation")


def _ids(nodes) -> list[int]:
    return list(nodes.order_by("pk").values_list("pk", flat=True))


def visible_among(user, node_ids: list[int], now: datetime | None = None) -> set[int]:
    """Those of ``node_ids`` that ``user`` may see now (one query)."""
    if not node_ids:
        return set()
    visible = Node.objects.readable_by(user, now or timezone.now()).filter(pk__in=node_ids)
    return set(visible.values_list("pk", flat=True))


def nodes_of(user, kind: str, pk: int, now: datetime | None = None) -> list[int] | None:
    """Ids of the nodes a subscription ``{kind: pk}`` covers for ``user``, or None."""
    now = now or timezone.now()
    if kind not in KINDS or not 0 < pk <= MAX_ID:
        return None
    visible = Node.objects.readable_by(user, now)
    if kind == "node":
        return _ids(visible.filter(pk=pk)) or None
    if kind == "installation":
        installation = Installation.objects.for_user(user, Action.VIEW).filter(pk=pk).first()
        if installation is None:
            return None
        if not Installation.objects.active(now).filter(pk=pk).exists():
            return []  # ended or not yet begun: nothing is installed there now
        return _ids(visible.filter(pk=installation.node_id))
    if kind == "organization":
        if not Organization.objects.for_user(user, Action.VIEW).filter(pk=pk).exists():
            return None
        return _ids(visible.filter(organization_id=pk))
    model, lookup = (Site, "room__site_id") if kind == "site" else (Room, "room_id")
    if not model.objects.for_user(user, Action.VIEW).filter(pk=pk).exists():
        return None
    installed = Installation.objects.active(now).filter(**{lookup: pk}).values("node_id")
    return _ids(visible.filter(pk__in=installed))


def public_since(user, node_ids: list[int], now: datetime | None = None) -> dict[int, float]:
    """Nodes ``user`` sees only through a public installation → its start (epoch seconds).

    A public installation publishes its own period only, as the installation time
    series (API), the public map (geo API) and the dashboard's tiles clip it: values
    measured earlier belong to other places and are left out of snapshots and deltas.
    Members (and superusers) see the node's whole history: no entry.
    """
    if not node_ids or sees_everything(user):
        return {}
    member_of = organization_ids(user, Action.VIEW)
    installations = (
        Installation.objects.active(now)
        .filter(is_public=True, node_id__in=node_ids)
        .exclude(node__organization_id__in=member_of.ids)
    )
    return {
        node: start.timestamp() for node, start in installations.values_list("node_id", "start")
    }
