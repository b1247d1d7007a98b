"""What a share link shows of a board's panels, read through the same library the member
APIs use (telemetry.timeseries, Latest, alerts, installations), within the share's walls:

- ``organization`` shares: the board's organization's nodes, as its members see them;
- ``public`` shares: only what anonymous users may see anyway: the values of a node during
  its public installations, the latest value while one is in place, no alerts, no devices'
  identities (``public_label``).

The answers have the shapes of the member APIs, so the page draws both the same way.
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from sensorgrid.alerts.models import Alert
from sensorgrid.boards.layout import RANGES
from sensorgrid.boards.models import BoardShare, ShareMode
from sensorgrid.inventory.models import Installation, Node, Quantity, public_label
from sensorgrid.isotime import iso
from sensorgrid.telemetry import timeseries
from sensorgrid.telemetry.models import Latest


class Reader:
    """The panels' data of one share."""

    def __init__(self, share: BoardShare, now: datetime | None = None) -> None:
        self.share = share
        self.board = share.board
        self.public = share.mode == ShareMode.PUBLIC
        self.now = now or timezone.now()

    # -- who and when -----------------------------------------------------------------------

    def periods(self, node_ids) -> dict[int, list[tuple[datetime, datetime]]]:
        """Per node, the [start, end) periods the share may show (public: public installations)."""
        nodes = Node.objects.filter(pk__in=node_ids, organization_id=self.board.organization_id)
        ids = list(nodes.values_list("pk", flat=True))
        if not self.public:
            return {pk: [(datetime.min.replace(tzinfo=self.now.tzinfo), self.now)] for pk in ids}
        found: dict[int, list[tuple[datetime, datetime]]] = {}
        installations = Installation.objects.filter(
            node_id__in=ids, is_public=True, start__lte=self.now
        )
        for row in installations.order_by("start"):
            found.setdefault(row.node_id, []).append(
                (row.start, min(row.end or self.now, self.now))
            )
        return found

    def labels(self, node_ids) -> dict[int, str]:
        rows = Node.objects.filter(pk__in=node_ids).values_list("pk", "alias", "device_id")
        if self.public:
            return {pk: public_label(alias, pk) for pk, alias, _ in rows}
        return {pk: alias or device_id for pk, alias, device_id in rows}

    # -- panels ----------------------------------------------------------------------------

    def panel(self, panel: dict, start: datetime | None, end: datetime | None) -> dict:
        end = min(end or self.now, self.now)
        start = start or end - timedelta(seconds=RANGES.get(self.board.layout.get("range"), 86400))
        # a link shows at most the longest range the board offers, whatever ``from`` asks
        start = max(start, end - timedelta(seconds=max(RANGES.values())))
        kind = panel.get("type")
        if kind == "timeseries":
            return self.series(panel, start, end)
        if kind in ("stat", "table"):
            return self.latest(panel)
        if kind == "map":
            return self.places(panel)
        if kind == "alerts":
            return self.alerts(panel)
        return {"image": None, "detail": "Pictures are shown to members only."}

    def series(self, panel: dict, start: datetime, end: datetime) -> dict:
        wanted = [s for s in panel.get("series", ()) if s.get("node")]
        periods = self.periods({s["node"] for s in wanted})
        quantities = {
            q.key: q for q in Quantity.objects.filter(key__in={s["quantity"] for s in wanted})
        }
        labels = self.labels(periods)
        out = []
        for s in wanted:
            quantity = quantities.get(s["quantity"])
            if quantity is None or s["node"] not in periods:
                continue
            points = []
            for begin, finish in periods[s["node"]]:
                lo, hi = max(begin, start), min(finish, end)
                if lo >= hi:
                    continue
                try:
                    found = timeseries.query(
                        s["node"],
                        [quantity.pk],
                        lo,
                        hi,
                        panel.get("bucket", "1h"),
                        timeseries.Agg(panel.get("agg", "avg")),
                    )
                except timeseries.TooManyPoints as exc:
                    return {"series": [], "detail": str(exc)}
                points += [{"ts": iso(p.ts), "value": p.value} for p in found[quantity.pk]]
            out.append(
                {
                    "node": s["node"],
                    "label": labels.get(s["node"], ""),
                    "quantity": quantity.key,
                    "unit": quantity.unit,
                    "points": points,
                }
            )
        return {"series": out}

    def latest(self, panel: dict) -> dict:
        ids = {panel["node"]} if panel.get("node") else set(panel.get("nodes", ()))
        periods = self.periods(ids)
        keys = [panel["quantity"]] if panel.get("quantity") else list(panel.get("quantities", ()))
        rows = Latest.objects.filter(node_id__in=list(periods)).select_related("quantity")
        if keys:
            rows = rows.filter(quantity__key__in=keys)
        labels = self.labels(periods)
        values = []
        for row in sorted(rows, key=lambda r: (r.node_id, r.quantity.key)):
            # public: only while a public installation is in place, and only its own values
            current = [p for p in periods[row.node_id] if p[1] >= self.now]
            if self.public and not any(begin <= row.ts for begin, _ in current):
                continue
            values.append(
                {
                    "node": row.node_id,
                    "label": labels.get(row.node_id, ""),
                    "quantity": row.quantity.key,
                    "unit": row.quantity.unit,
                    "ts": iso(row.ts),
                    "value": row.value,
                }
            )
        return {"values": values}

    def places(self, panel: dict) -> dict:
        installations = Installation.objects.active(self.now).filter(
            node__organization_id=self.board.organization_id,
            room__site__latitude__isnull=False,
            room__site__longitude__isnull=False,
        )
        if panel.get("nodes"):
            installations = installations.filter(node_id__in=panel["nodes"])
        if self.public:
            installations = installations.filter(is_public=True)
        rows = list(installations.select_related("node", "room__site")[:500])
        labels = self.labels([i.node_id for i in rows])
        return {
            "features": [
                {
                    "node": i.node_id,
                    "label": labels.get(i.node_id, ""),
                    "room": i.room.name,
                    "site": i.room.site.name,
                    "lat": i.room.site.latitude,
                    "lon": i.room.site.longitude,
                }
                for i in rows
            ]
        }

    def alerts(self, panel: dict) -> dict:
        if self.public:  # alerts are for members only, also of public nodes
            return {"alerts": []}
        rows = Alert.objects.filter(organization_id=self.board.organization_id)
        if panel.get("state", "open") == "open":
            rows = rows.filter(Q(resolved_at__isnull=True))
        rows = rows.select_related("node", "quantity").order_by("-opened_at")[
            : panel.get("limit", 10)
        ]
        return {
            "alerts": [
                {
                    "id": a.pk,
                    "node": a.node_id,
                    "device_id": a.node.device_id if a.node else "",
                    "quantity": a.quantity.key if a.quantity else "",
                    "severity": a.severity,
                    "message": a.message,
                    "opened_at": iso(a.opened_at),
                    "resolved_at": iso(a.resolved_at),
                }
                for a in rows
            ]
        }
