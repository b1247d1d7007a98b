"""The state rule, a pure function of the last message time, the interval and now.

A node is ALIVE while its last message is at most ``missing_after`` × its expected
interval old, MISSING until ``dead_after`` × interval, DEAD after that, and
UNKNOWN while it has never sent anything. A last message in the future (the clock
of the process that wrote it runs ahead) counts as just now.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from sensorgrid.env import ConfigurationError
from sensorgrid.inventory.models import NodeStatus


@dataclass(frozen=True, slots=True)
class Thresholds:
    missing_after: float = 2.0
    dead_after: float = 24.0

    def __post_init__(self) -> None:
        if not 0 < self.missing_after < self.dead_after:
            raise ConfigurationError(
                "fidelity thresholds need 0 < missing factor < dead factor, got "
                f"{self.missing_after} and {self.dead_after}"
            )

    @classmethod
    def from_settings(cls) -> "Thresholds":
        return cls(
            settings.SENSORGRID_FIDELITY_MISSING_FACTOR, settings.SENSORGRID_FIDELITY_DEAD_FACTOR
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    status: NodeStatus
    since: datetime | None  # when that state began; None for UNKNOWN


def judge(
    last_seen: datetime | None, interval_s: int, now: datetime, thresholds: Thresholds
) -> Verdict:
    if last_seen is None:
        return Verdict(NodeStatus.UNKNOWN, None)
    interval = timedelta(seconds=interval_s)
    missing_at = last_seen + thresholds.missing_after * interval
    dead_at = last_seen + thresholds.dead_after * interval
    if now <= missing_at:
        return Verdict(NodeStatus.ALIVE, min(last_seen, now))
    if now <= dead_at:
        return Verdict(NodeStatus.MISSING, missing_at)
    return Verdict(NodeStatus.DEAD, dead_at)
