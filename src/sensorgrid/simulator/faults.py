"""Faults real devices have, applied between a profile's reading and its encoding.

Every fault is a pure function of (device, time) like the profiles, so a seed gives
the same faults every run.

- ``dropout``: in some 10-minute windows (10 %) the device sends nothing.
- ``stuck``: in some 10-minute windows (10 %) the sensor repeats the values of the
  window's start.
- ``spikes``: 2 % of the messages carry one value far outside the quantity's
  plausible range. The pipeline refuses it as ``out-of-range``: these dead letters
  are intended.
- ``skew``: the device's clock is off by a fixed amount. Some devices stay within the
  ingest's 5-minute limit for the future (−4, −2, +2, +4 minutes), others do not (+7,
  +10 minutes) and their messages become ``bad-timestamp`` dead letters.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sensorgrid.simulator.profiles.base import Device, Profile, rng

KINDS = ("dropout", "stuck", "spikes", "skew")
WINDOW = 600  # seconds
DROPOUT_SHARE = 0.10
STUCK_SHARE = 0.10
SPIKE_SHARE = 0.02
SKEWS = (-4, -2, 2, 4, 7, 10)  # minutes

#: quantity → a value outside its plausible range (inventory.quantities.SEED)
SPIKES = {
    "co2": 45_000,
    "temperature": 150.0,
    "humidity": 120.0,
    "pressure": 1500.0,
    "pm2_5": 5000.0,
    "pm10": 5000.0,
    "noise": 200.0,
    "speed": 450.0,
    "heading": 400.0,
}


class FaultError(ValueError):
    pass


def parse(text: str) -> frozenset[str]:
    """``"dropout,stuck"`` → the fault kinds; raises FaultError on an unknown one."""
    kinds = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = kinds - set(KINDS)
    if unknown:
        raise FaultError(f"unknown fault {', '.join(sorted(unknown))}; known: {', '.join(KINDS)}")
    return kinds


@dataclass(frozen=True, slots=True)
class Faulty:
    """What a device sends at one instant once faults are applied (None: nothing)."""

    values: dict[str, float]
    ts: datetime  # the device's clock
    spiked: bool = False


def apply(profile: Profile, device: Device, at: datetime, kinds: frozenset[str]) -> Faulty | None:
    """The device's values and clock at ``at`` under the faults ``kinds``."""
    window = math.floor(at.timestamp() / WINDOW)
    if "dropout" in kinds and _share(device, "dropout", window) < DROPOUT_SHARE:
        return None
    measured = at
    if "stuck" in kinds and _share(device, "stuck", window) < STUCK_SHARE:
        measured = datetime.fromtimestamp(window * WINDOW, tz=at.tzinfo)
    values = profile.reading(device, measured)
    spiked = False
    if "spikes" in kinds and _share(device, "spikes", at.timestamp()) < SPIKE_SHARE:
        candidates = [key for key in values if key in SPIKES]
        if candidates:
            key = rng(device.seed, device.index, "spike-key", at.timestamp()).choice(candidates)
            values = {**values, key: SPIKES[key]}
            spiked = True
    ts = at + skew(device) if "skew" in kinds else at
    return Faulty(values, ts, spiked)


def skew(device: Device) -> timedelta:
    """How far the device's clock is off when it has the skew fault."""
    return timedelta(minutes=rng(device.seed, device.index, "skew").choice(SKEWS))


def _share(device: Device, fault: str, slot: float) -> float:
    return rng(device.seed, device.index, fault, slot).random()
