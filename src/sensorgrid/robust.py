"""Robust statistics: the median and the median absolute deviation (MAD) of a sample.

Both anomaly rules use them, the status page's dead-letter warning
(``health.anomaly``) and the ``anomaly`` alert rule kind (``alerts.rules.anomaly``):
unlike the mean and the standard deviation, they are not dragged along by the
spikes they are meant to find. Pure, no Django: importable from any layer.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

NORMAL_CONSISTENCY = 1.4826  # 1 / Φ⁻¹(3/4): MAD × this estimates σ of normal noise


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    mad: float


def spread(sample: Sequence[float]) -> Spread:
    """Median and median absolute deviation; both 0 for an empty sample."""
    if not sample:
        return Spread(0.0, 0.0)
    median = statistics.median(sample)
    return Spread(median, statistics.median(abs(x - median) for x in sample))
