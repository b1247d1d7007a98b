"""``{% node_tabs node "history" as tabs %}``: the node's tab bar, for
``dashboard/_node_tabs.html`` (which any node page includes)."""

from django import template

from sensorgrid.dashboard.node_pages.tabs import Tab
from sensorgrid.dashboard.node_pages.tabs import node_tabs as tabs_of

register = template.Library()


@register.simple_tag
def node_tabs(node, current: str = "") -> list[Tab]:
    return tabs_of(node, current)


@register.filter
def mhz(hertz: int | None) -> str:
    """A LoRaWAN channel's frequency in MHz (868100000 → 868.1), "–" if unknown."""
    if hertz is None:
        return "–"
    return f"{hertz / 1_000_000:.3f}".rstrip("0").rstrip(".")
