"""A bar chart of values per minute, laid out on the server as plain SVG numbers.

The status page needs no JavaScript and no chart library: the template draws one
``<rect>`` per minute from these coordinates.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sensorgrid.health.anomaly import MinuteCount


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    minute: datetime
    values: int
    dead_letters: int


def bars(
    minutes: Sequence[MinuteCount], width: float = 600, height: float = 120, gap: float = 1
) -> list[Bar]:
    """One bar per minute, scaled so the busiest minute fills ``height``."""
    if not minutes:
        return []
    peak = max(m.values for m in minutes) or 1
    step = width / len(minutes)
    result = []
    for n, m in enumerate(minutes):
        tall = round(height * m.values / peak, 2)
        result.append(
            Bar(
                round(n * step, 2),
                round(height - tall, 2),
                round(max(step - gap, 0.5), 2),
                tall,
                m.minute,
                m.values,
                m.dead_letters,
            )
        )
    return result
