"""The route table: which decoder reads the messages of which MQTT topics.

A route pattern is an MQTT topic filter in which a level may be written
``{device}``: it subscribes as ``+`` and the level's value is the device the topic
names (``Envelope.device``). Patterns are compiled once: exact topics go into a
dict, wildcard patterns are tried after them in table order. Matching follows MQTT:
``+`` is one level (possibly empty), ``#`` the rest including none, a topic
starting with ``$`` is never matched by a pattern starting with a wildcard, and a
topic name containing ``+`` or ``#`` (which the MQTT spec forbids) matches nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sensorgrid.ingest import decoders
from sensorgrid.ingest.envelope import Authority

DEVICE = "{device}"


def builtin() -> list["Route"]:
    """The routes every ingester has unless settings replace them: each decoder's own."""
    return [
        Route(pattern, decoder.key, decoder.source or "mqtt")
        for decoder in decoders.registered()
        for pattern in decoder.routes
    ]


class RouteError(ValueError):
    """A pattern that is not a valid MQTT topic filter."""


@dataclass(frozen=True, slots=True)
class Route:
    pattern: str
    decoder: str
    source: str = "mqtt"
    #: the organization the route is bound to (an ``MqttRoute`` row's), None if unbound
    organization_id: int | None = None
    route_id: int | None = None

    @property
    def authority(self) -> Authority | None:
        """A bound route's messages are its organization's, as if sent with its key."""
        if self.organization_id is None:
            return None
        return Authority(self.organization_id, None, "mqtt-route", self.route_id)

    @property
    def subscription(self) -> str:
        """The MQTT topic filter to subscribe to."""
        return "/".join("+" if level == DEVICE else level for level in self.pattern.split("/"))


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    device: str  # "" when the pattern has no {device} level


def check(pattern: str) -> None:
    """Raise RouteError unless ``pattern`` is a valid filter (with optional {device})."""
    if not pattern:
        raise RouteError("a topic filter cannot be empty")
    if "\x00" in pattern:
        raise RouteError("a topic filter cannot contain NUL")
    levels = pattern.split("/")
    for position, level in enumerate(levels):
        if level == "#" and position != len(levels) - 1:
            raise RouteError(f"{pattern!r}: '#' must be the last level")
        if level not in ("+", "#", DEVICE) and ("+" in level or "#" in level):
            raise RouteError(f"{pattern!r}: a wildcard must fill a whole level")
    if levels.count(DEVICE) > 1:
        raise RouteError(f"{pattern!r}: at most one {DEVICE} level")


class RouteTable:
    """Compiled routes; ``match(topic)`` is a dict lookup for exact topics."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._exact: dict[str, Route] = {}
        self._wildcards: list[tuple[tuple[str, ...], Route]] = []
        for route in self.routes:
            check(route.pattern)
            levels = tuple(route.pattern.split("/"))
            if any(level in ("+", "#", DEVICE) for level in levels):
                self._wildcards.append((levels, route))
            else:
                self._exact.setdefault(route.pattern, route)
        self.match = lru_cache(maxsize=65_536)(self._match)

    def subscriptions(self) -> list[str]:
        """The distinct topic filters to subscribe to, in table order."""
        return list(dict.fromkeys(route.subscription for route in self.routes))

    def _match(self, topic: str) -> Match | None:
        # A topic name never holds a wildcard (MQTT 3.1.1 4.7.1, 5.0 4.7.1): such a
        # "topic" is a filter someone published to, and names no device of a route.
        if "+" in topic or "#" in topic:
            return None
        route = self._exact.get(topic)
        if route is not None:
            return Match(route, "")
        levels = topic.split("/")
        for pattern, route in self._wildcards:
            device = _match_levels(pattern, levels)
            if device is not None:
                return Match(route, device)
        return None


def _match_levels(pattern: tuple[str, ...], levels: list[str]) -> str | None:
    """The {device} value ("" if none) when the topic levels match, else None."""
    if levels[0].startswith("$") and pattern[0] in ("+", "#", DEVICE):
        return None
    device = ""
    for position, want in enumerate(pattern):
        if want == "#":
            return device
        if position >= len(levels):
            return None
        if want == DEVICE:
            device = levels[position]
        elif want != "+" and want != levels[position]:
            return None
    return device if len(levels) == len(pattern) else None
