"""Which nodes the device list shows: the member's nodes, searched, filtered and sorted.

The list shows ``Node.objects.for_user`` (members' nodes), like the node page: a
public installation publishes a node's values on /public/, never the node itself, so
another organization's node never appears here, published or not.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf

from sensorgrid.alerts.models import Alert
from sensorgrid.dashboard.lists import table
from sensorgrid.inventory.models import Installation, Node, NodeModel, NodeStatus, Room, Site
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import organization_ids

STATUSES = [("", "Any status")] + [(s.value.lower(), s.value.lower()) for s in NodeStatus]
ALERTS = [("", "With or without"), ("yes", "With open alerts"), ("no", "Without open alerts")]

# Worst first when sorting by status ascending: a dead node is what a fleet operator
# looks for, not the alphabet.
STATUS_RANK = Case(
    When(status=NodeStatus.DEAD, then=Value(0)),
    When(status=NodeStatus.MISSING, then=Value(1)),
    When(status=NodeStatus.UNKNOWN, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)

# sort key -> ascending order expressions (pk last, so paging is stable)
SORTS = {
    "name": [Lower("label").asc()],
    "device_id": [F("device_id").asc()],
    "model": [F("model__manufacturer").asc(nulls_last=True), F("model__name").asc()],
    "organization": [F("organization__name").asc()],
    "status": [F("status_rank").asc()],
    "last_seen": [F("last_seen").asc(nulls_first=True)],
    "alerts": [F("open_alerts").asc()],
}
DEFAULT_SORT = "name"


def _ordering(sort: str) -> list:
    descending = sort.startswith("-")
    exprs = SORTS[sort.lstrip("-")]
    if descending:
        exprs = [e.copy() for e in exprs]
        for e in exprs:
            e.reverse_ordering()
    tie = F("pk").desc() if descending else F("pk").asc()
    return [*exprs, tie]


def sort_choices() -> list[tuple[str, str]]:
    return [(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS]


class NodeFilter(forms.Form):
    """The GET parameters of the device list; choices are the user's own, so a foreign
    site, room, model or organization id is "not one of the choices", never a leak."""

    q = forms.CharField(
        required=False, max_length=100, label="Search name or device id", widget=table.SearchInput
    )
    status = forms.ChoiceField(required=False, choices=STATUSES)
    model = forms.ModelChoiceField(
        required=False, queryset=NodeModel.objects.none(), empty_label="Any model"
    )
    organization = forms.ModelChoiceField(
        required=False, queryset=Organization.objects.none(), empty_label="Any organization"
    )
    site = forms.ModelChoiceField(
        required=False, queryset=Site.objects.none(), empty_label="Any site"
    )
    room = forms.ModelChoiceField(
        required=False, queryset=Room.objects.none(), empty_label="Any room"
    )
    alerts = forms.ChoiceField(required=False, choices=ALERTS, label="Open alerts")
    sort = forms.ChoiceField(required=False, choices=sort_choices)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def __init__(self, data, *, user) -> None:
        super().__init__(data)
        ids = organization_ids(user)
        nodes = Node.objects.filter(ids.q())
        fields = self.fields
        fields["model"].queryset = NodeModel.objects.filter(  # type: ignore[attr-defined]
            pk__in=nodes.values("model")
        ).order_by("manufacturer", "name")
        fields["organization"].queryset = Organization.objects.filter(  # type: ignore[attr-defined]
            ids.q("pk")
        ).order_by("name")
        fields["site"].queryset = Site.objects.filter(ids.q()).order_by("name", "pk")  # type: ignore[attr-defined]
        fields["room"].queryset = (  # type: ignore[attr-defined]
            Room.objects.filter(ids.q("site__organization"))
            .select_related("site")
            .order_by("site__name", "name", "pk")
        )
        self.user = user

    def controls(self) -> list:
        """The filter fields with their options, read as values (no model instances)."""
        f = self.fields
        models = f["model"].queryset.values_list("pk", "manufacturer", "name")  # type: ignore[attr-defined]
        organizations = f["organization"].queryset.values_list("pk", "name")  # type: ignore[attr-defined]
        sites = f["site"].queryset.values_list("pk", "name")  # type: ignore[attr-defined]
        rooms = f["room"].queryset.values_list("pk", "site__name", "name")  # type: ignore[attr-defined]
        return table.controls(
            self,
            {
                "q": None,
                "status": STATUSES,
                "model": [("", "Any model")] + [(str(pk), f"{m} {n}") for pk, m, n in models],
                "organization": [("", "Any organization")]
                + [(str(pk), name) for pk, name in organizations],
                "site": [("", "Any site")] + [(str(pk), name) for pk, name in sites],
                "room": [("", "Any room")] + [(str(pk), f"{s} / {n}") for pk, s, n in rooms],
                "alerts": ALERTS,
            },
        )


@dataclass(frozen=True, slots=True)
class Criteria:
    """The cleaned filters; an empty value filters nothing."""

    q: str = ""
    status: str = ""
    model: NodeModel | None = None
    organization: Organization | None = None
    site: Site | None = None
    room: Room | None = None
    alerts: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def of(cls, cleaned: dict) -> "Criteria":
        return cls(
            q=cleaned.get("q") or "",
            status=cleaned.get("status") or "",
            model=cleaned.get("model"),
            organization=cleaned.get("organization"),
            site=cleaned.get("site"),
            room=cleaned.get("room"),
            alerts=cleaned.get("alerts") or "",
            sort=cleaned.get("sort") or DEFAULT_SORT,
        )


def _open_alerts():
    return Alert.objects.filter(node=OuterRef("pk"), resolved_at__isnull=True)


def _decorated(nodes):
    """What the table shows beyond the node's own columns: open alerts, current room."""
    counts = _open_alerts().order_by().values("node").annotate(n=Count("pk")).values("n")[:1]
    rooms = Installation.objects.active().filter(node=OuterRef("pk")).order_by("-start")
    return nodes.select_related("organization", "model").annotate(
        open_alerts=Coalesce(Subquery(counts), Value(0)),
        room_id=Subquery(rooms.values("room")[:1]),
    )


def nodes_for(user, criteria: Criteria):
    """The user's nodes matching ``criteria``, in order, carrying only what the order
    needs: counting and slicing them stays a scan of nodes (``page_rows`` adds the rest)."""
    placed = Installation.objects.active()
    nodes = Node.objects.filter(organization_ids(user).q()).annotate(
        label=Coalesce(NullIf("alias", Value("")), "device_id"), status_rank=STATUS_RANK
    )
    if criteria.sort.lstrip("-") == "alerts":
        nodes = _decorated(nodes)
    if criteria.q:
        nodes = nodes.filter(Q(alias__icontains=criteria.q) | Q(device_id__icontains=criteria.q))
    if criteria.status:
        nodes = nodes.filter(status=criteria.status.upper())
    if criteria.model:
        nodes = nodes.filter(model=criteria.model)
    if criteria.organization:
        nodes = nodes.filter(organization=criteria.organization)
    if criteria.site:
        nodes = nodes.filter(pk__in=placed.filter(room__site=criteria.site).values("node"))
    if criteria.room:
        nodes = nodes.filter(pk__in=placed.filter(room=criteria.room).values("node"))
    if criteria.alerts == "yes":
        nodes = nodes.filter(Exists(_open_alerts()))
    elif criteria.alerts == "no":
        nodes = nodes.exclude(Exists(_open_alerts()))
    return nodes.order_by(*_ordering(criteria.sort))


def page_rows(page_slice) -> list[Node]:
    """The nodes of one page, in the page's order, with alerts, room and site."""
    ids = list(page_slice.values_list("pk", flat=True))
    by_id = _decorated(Node.objects.filter(pk__in=ids)).in_bulk(ids)
    nodes = [by_id[pk] for pk in ids if pk in by_id]
    attach_rooms(nodes)
    return nodes


def export_rows(nodes):
    """Every node of ``nodes`` decorated for the CSV (iterate it in chunks)."""
    return _decorated(nodes)


def attach_rooms(nodes: Iterable[Node]) -> None:
    """Set ``node.room`` (with its site) from the ``room_id`` annotation: one query."""
    nodes = list(nodes)
    ids = {n.room_id for n in nodes if n.room_id}  # type: ignore[attr-defined]
    rooms = Room.objects.select_related("site").in_bulk(ids) if ids else {}
    for node in nodes:
        node.room = rooms.get(node.room_id)  # type: ignore[attr-defined]
