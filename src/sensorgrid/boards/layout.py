"""The JSON document of a board (docs/dashboard.md, "The board format"): validated with
DRF serializers on every write, and filtered on every read so that a panel never shows a
node outside the board's organization (a node moved away after the board was saved)."""

from typing import Any

from rest_framework import serializers

from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.telemetry import timeseries

COLUMNS = 12
RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
REFRESH = [0, 10, 30, 60, 300]  # seconds; 0: only the live updates
MAX_PANELS = 40
PANEL_TYPES = ("timeseries", "stat", "table", "map", "alerts", "image")
COLORS = ("ok", "warning", "critical")
FORMAT = 1  # "format" of an exported file


class SeriesSerializer(serializers.Serializer):
    node = serializers.IntegerField(min_value=1)
    quantity = serializers.SlugField(max_length=50)


class ThresholdSerializer(serializers.Serializer):
    value = serializers.FloatField()
    color = serializers.ChoiceField(choices=COLORS)


class PanelSerializer(serializers.Serializer):
    """Fields every panel has: where it sits on the 12-column grid and what it is."""

    id = serializers.RegexField(r"^[A-Za-z0-9_-]{1,32}$")
    type = serializers.ChoiceField(choices=PANEL_TYPES)
    title = serializers.CharField(max_length=200, allow_blank=True, default="")
    x = serializers.IntegerField(min_value=0, max_value=COLUMNS - 1)
    y = serializers.IntegerField(min_value=0, max_value=500)
    w = serializers.IntegerField(min_value=1, max_value=COLUMNS)
    h = serializers.IntegerField(min_value=1, max_value=12)

    def validate(self, attrs):
        if attrs["x"] + attrs["w"] > COLUMNS:
            raise serializers.ValidationError({"w": f"x + w must be at most {COLUMNS}."})
        return attrs


class TimeseriesPanel(PanelSerializer):
    series = serializers.ListField(child=SeriesSerializer(), min_length=1, max_length=8)
    bucket = serializers.ChoiceField(choices=list(timeseries.BUCKETS), default="1h")
    agg = serializers.ChoiceField(choices=[a.value for a in timeseries.Agg], default="avg")


class StatPanel(PanelSerializer):
    node = serializers.IntegerField(min_value=1)
    quantity = serializers.SlugField(max_length=50)
    gauge = serializers.BooleanField(default=False)
    min = serializers.FloatField(required=False, allow_null=True, default=None)
    max = serializers.FloatField(required=False, allow_null=True, default=None)
    thresholds = serializers.ListField(child=ThresholdSerializer(), max_length=5, default=list)


class TablePanel(PanelSerializer):
    nodes = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=50
    )
    quantities = serializers.ListField(
        child=serializers.SlugField(max_length=50), max_length=10, default=list
    )


class MapPanel(PanelSerializer):
    nodes = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=500,
        default=list,
        help_text="Empty: every node of the organization placed now.",
    )


class AlertsPanel(PanelSerializer):
    state = serializers.ChoiceField(choices=["open", "all"], default="open")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class ImagePanel(PanelSerializer):
    node = serializers.IntegerField(min_value=1)
    name = serializers.SlugField(max_length=100)


PANELS: dict[str, type[PanelSerializer]] = {
    "timeseries": TimeseriesPanel,
    "stat": StatPanel,
    "table": TablePanel,
    "map": MapPanel,
    "alerts": AlertsPanel,
    "image": ImagePanel,
}


class LayoutSerializer(serializers.Serializer):
    range = serializers.ChoiceField(choices=list(RANGES), default="24h")
    refresh = serializers.ChoiceField(choices=REFRESH, default=0)
    panels = serializers.ListField(child=serializers.DictField(), max_length=MAX_PANELS)


def nodes_of(panel: dict) -> set[int]:
    """The node ids a (validated) panel names."""
    if "series" in panel:
        return {s["node"] for s in panel["series"]}
    if "nodes" in panel:
        return set(panel["nodes"])
    if "node" in panel:
        return {panel["node"]}
    return set()


def quantities_of(panel: dict) -> set[str]:
    if "series" in panel:
        return {s["quantity"] for s in panel["series"]}
    if "quantity" in panel:
        return {panel["quantity"]}
    return set(panel.get("quantities", ()))


def validate(data: Any, organization_id: int) -> dict:
    """The clean layout, or a ValidationError whose keys say where (``panels.2.series``).

    Every node a panel names must belong to the board's organization: a 400 here, never a
    board that silently points at another organization's device.
    """
    outer = LayoutSerializer(data=data)
    outer.is_valid(raise_exception=True)
    clean = dict(outer.validated_data)
    errors: dict[str, Any] = {}
    panels: list[dict] = []
    for index, raw in enumerate(clean["panels"]):
        kind = raw.get("type")
        serializer_class = PANELS.get(kind) if isinstance(kind, str) else None
        if serializer_class is None:
            errors[f"panels.{index}.type"] = [f"One of {', '.join(PANEL_TYPES)}."]
            continue
        checked = serializer_class(data=raw)
        if not checked.is_valid():
            errors[f"panels.{index}"] = checked.errors
            continue
        panels.append(_plain(checked.validated_data))
    ids = [p["id"] for p in panels]
    if len(set(ids)) != len(ids):
        errors["panels"] = ["Each panel needs its own id."]
    if errors:
        raise serializers.ValidationError(errors)
    named = set().union(*(nodes_of(p) for p in panels)) if panels else set()
    ours = set(
        Node.objects.filter(pk__in=named, organization_id=organization_id).values_list(
            "pk", flat=True
        )
    )
    keys = set().union(*(quantities_of(p) for p in panels)) if panels else set()
    known = set(Quantity.objects.filter(key__in=keys).values_list("key", flat=True))
    for index, panel in enumerate(panels):
        foreign = sorted(nodes_of(panel) - ours)
        if foreign:
            errors[f"panels.{index}"] = [
                f"No node {', '.join(map(str, foreign))} in this board's organization."
            ]
        unknown = sorted(quantities_of(panel) - known)
        if unknown:
            errors.setdefault(f"panels.{index}", []).append(
                f"Unknown quantity {', '.join(unknown)}."
            )
    if errors:
        raise serializers.ValidationError(errors)
    return {"range": clean["range"], "refresh": clean["refresh"], "panels": panels}


def _plain(value):
    """Validated data as plain JSON values (OrderedDicts and ReturnLists to dicts and lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def readable(layout: dict, organization_id: int) -> dict:
    """``layout`` without the nodes that are no longer the organization's (filter on read).

    A series, table row or map marker of such a node disappears; a stat or image panel
    keeps its place on the grid with no node (it shows nothing).
    """
    panels = layout.get("panels") or []
    named = set().union(*(nodes_of(p) for p in panels)) if panels else set()
    ours = set(
        Node.objects.filter(pk__in=named, organization_id=organization_id).values_list(
            "pk", flat=True
        )
    )
    shown = []
    for panel in panels:
        panel = dict(panel)
        if "series" in panel:
            panel["series"] = [s for s in panel["series"] if s.get("node") in ours]
        if "nodes" in panel:
            panel["nodes"] = [n for n in panel["nodes"] if n in ours]
        if "node" in panel and panel["node"] not in ours:
            panel["node"] = None
        shown.append(panel)
    return {**layout, "panels": shown}
