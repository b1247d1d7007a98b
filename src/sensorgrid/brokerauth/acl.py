"""Which topics a node may publish to: the route table's ``{device}`` templates, filled in.

A node may publish exactly where the ingest service would read its messages as its own:
every route whose pattern names the device with a ``{device}`` level (the enabled
``MqttRoute`` rows unbound or bound to the node's organization, then the settings' or the
built-in routes), with that level replaced by the node's device id. Other wildcard levels
stay wildcards (``kpi/{device}/#`` → ``kpi/42/#``). Routes without ``{device}`` (a
network server's uplinks, ``/kpi/#``) belong to integrations, never to a device.

An id belongs to the node that registered it first. Device ids are unique per
organization only, and an unbound route reads its ``{device}`` in every organization: if
two organizations' nodes with one id both got ``sensorgrid/<id>/up``, the later one could
publish as the earlier one, and the ingest service would refuse both as ambiguous (a
way to silence another organization's device by registering its id). So the unbound
routes' topics of an id go only to its **first node**: the lowest pk among the nodes with
that id, ignoring case, in every organization (an organization's deletion deletes its
nodes, so they drop out and the next one in line gets the topics). A later duplicate
gets only the routes bound to its own organization. With broker authentication on, the
ingest service resolves such an id on an unbound route to that same node
(ingest/steps/devices.py); receivers.py resyncs the next node in line when the first one
is deleted or renamed.

MQTT has no escape for ``+``, ``#`` or ``/`` in a topic level, so a device id holding one
of them (the model's validator forbids it, but ``save()`` does not run validators) would
widen its ACL: such a node gets no filters at all. The same holds for an empty id or one
starting with ``$`` (the broker's own topics).

Pure functions; ``publish_filters`` and ``device_routes`` read the route table from the
database and settings. Used by the Mosquitto dynamic security accounts (accounts.py), the
demo broker's topic check and the dashboard's Connect panel.
"""

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from sensorgrid.ingest.mqtt.routes import DEVICE, Route, RouteTable

if TYPE_CHECKING:
    from sensorgrid.inventory.models import Node

# The inventory's device_id_validator: letters, digits and _ . : - only.
_SAFE_DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def safe_device_id(device_id: str) -> bool:
    """True if ``device_id`` can fill a topic level without widening it."""
    return bool(_SAFE_DEVICE_ID.fullmatch(device_id))


def device_routes() -> list[Route]:
    """The routes that name a device (``{device}`` level), in route-table order."""
    from sensorgrid.ingest.mqtt.config import route_table

    return [route for route in route_table().routes if DEVICE in route.pattern.split("/")]


def filters_for_device(
    device_id: str,
    routes: Iterable[Route],
    organization_id: int | None = None,
    unbound: bool = True,
) -> list[str]:
    """The topic filters ``device_id`` may publish to under ``routes``, without repeats.

    A route bound to an organization counts only for that ``organization_id`` (with
    None, bound routes are skipped); routes bound to none count only with ``unbound``
    (the id's first node, module docstring). An unsafe device id (see the module
    docstring) gets no filters.
    """
    if not safe_device_id(device_id):
        return []
    filters: dict[str, None] = {}
    for route in routes:
        if route.organization_id is None and not unbound:
            continue
        if route.organization_id is not None and route.organization_id != organization_id:
            continue
        levels = route.pattern.split("/")
        if DEVICE not in levels:
            continue
        filters["/".join(device_id if level == DEVICE else level for level in levels)] = None
    return list(filters)


def publish_filters(
    node: "Node", routes: Iterable[Route] | None = None, first: bool | None = None
) -> list[str]:
    """The topic filters ``node`` may publish to (``routes``: default the route table;
    ``first``: whether it is its id's first node, default asked of the database)."""
    if routes is None:
        routes = device_routes()
    if first is None:
        first = is_first(node)
    return filters_for_device(node.device_id, routes, node.organization_id, unbound=first)


def _same_id(device_id: str):
    from django.db.models.functions import Lower

    from sensorgrid.inventory.models import Node

    # Lower(): the index of the inventory's per-organization unique constraint
    return Node.objects.alias(lower_id=Lower("device_id")).filter(lower_id=device_id.lower())


def is_first(node: "Node") -> bool:
    """True if no node with a lower pk (any organization) has ``node``'s id, ignoring case."""
    earlier = _same_id(node.device_id)
    if node.pk is not None:
        earlier = earlier.filter(pk__lt=node.pk)
    return not earlier.exists()


def first_node_id(device_id: str, other_than: int | None = None) -> int | None:
    """The pk of the node the unbound routes' topics of ``device_id`` belong to
    (``other_than``: as if that node did not have the id)."""
    nodes = _same_id(device_id)
    if other_than is not None:
        nodes = nodes.exclude(pk=other_than)
    return nodes.order_by("pk").values_list("pk", flat=True).first()


def allowed(filters: Iterable[str], topic: str) -> bool:
    """True if publishing on ``topic`` is allowed by one of the topic ``filters``.

    MQTT matching (the ingest route matcher): ``+`` one level, ``#`` the rest, a ``$``
    topic never matched by a leading wildcard, a topic holding ``+``/``#`` never allowed.
    """
    return _compiled(tuple(filters)).match(topic) is not None


@lru_cache(maxsize=4096)
def _compiled(filters: tuple[str, ...]) -> RouteTable:
    return RouteTable(Route(topic_filter, "acl") for topic_filter in filters)
