"""The registry of rule kinds: one small module per kind (docs/alerts.md)."""

from sensorgrid.alerts.rules.base import Kind

KINDS: dict[str, Kind] = {}


def register(cls: type[Kind]) -> type[Kind]:
    KINDS[cls.key] = cls()
    return cls


def get(key: str) -> Kind:
    return KINDS[key]


from sensorgrid.alerts.rules import (  # noqa: E402  (registers the built-in kinds)
    anomaly,
    no_data,
    node_health,
    rate_of_change,
    threshold,
)

__all__ = [
    "KINDS",
    "anomaly",
    "get",
    "no_data",
    "node_health",
    "rate_of_change",
    "register",
    "threshold",
]
