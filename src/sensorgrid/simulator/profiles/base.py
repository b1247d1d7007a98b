"""The profile registry. A profile is a small class in its own module.

A profile turns (device index, seed, time) into what that device sends at that time:
``reading`` gives the values (a pure function, so one seed always gives the same
data), ``encode`` the MQTT topic and payload bytes in the device's format. Faults
(``simulator.faults``) change the values or the clock between the two.
"""

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from sensorgrid.registry import Registry

REGISTRY: Registry["Profile"] = Registry("profile")


@dataclass(frozen=True, slots=True)
class Device:
    """One simulated device: its number in the run, the run's seed and its device id."""

    index: int
    seed: int
    device_id: str


@dataclass(frozen=True, slots=True)
class Uplink:
    """What a device sends: the topic, the payload, and the time it says it measured."""

    topic: str
    payload: bytes
    ts: datetime


class Profile:
    key: ClassVar[str]
    description: ClassVar[str] = ""
    #: the ingest decoder that reads this profile's payloads (the route's decoder)
    decoder: ClassVar[str]
    #: the node model's codec for binary frames ("" if the payload carries values)
    codec: ClassVar[str] = ""
    #: quantity → (lowest, highest) plausible values the profile produces; spikes leave it
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY.add(cls.key, cls())

    def device(self, index: int, seed: int) -> Device:
        """Device number ``index`` (from 1) of the run with ``seed``."""
        return Device(index, seed, f"sim-{self.key}-{seed}-{index}")

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        """The values the device measures at ``at``: a pure function of its arguments."""
        raise NotImplementedError

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        """The topic and payload that carry ``values`` measured at ``ts`` (device clock)."""
        raise NotImplementedError


def get(key: str) -> Profile:
    return REGISTRY.get(key)


def available() -> list[str]:
    return REGISTRY.keys()


# Deterministic randomness. ``random.Random`` seeded with a string is stable across
# runs and platforms (it hashes the string with SHA-512), unlike ``hash()``.


def rng(*parts: object) -> random.Random:
    """A generator seeded by ``parts`` (device, seed, a time slot, a purpose …)."""
    return random.Random(":".join(str(part) for part in parts))


def trait(device: Device, name: str, low: float, high: float) -> float:
    """A fixed property of one device (its room's size, its mean temperature …)."""
    return rng(device.seed, device.index, name).uniform(low, high)


def noise(device: Device, name: str, at: datetime, scale: float, period: float = 60) -> float:
    """Smooth noise of amplitude ``scale``: a random value per ``period`` seconds, blended."""
    position = at.timestamp() / period
    slot = math.floor(position)
    fraction = position - slot
    a = rng(device.seed, device.index, name, slot).uniform(-1, 1)
    b = rng(device.seed, device.index, name, slot + 1).uniform(-1, 1)
    weight = (1 - math.cos(math.pi * fraction)) / 2
    return scale * (a + (b - a) * weight)


def jitter(device: Device, name: str, at: datetime, scale: float) -> float:
    """White noise: a new random value for each instant."""
    return rng(device.seed, device.index, name, at.timestamp()).uniform(-scale, scale)


def device_time(ts: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as devices send it."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def hours_of_day(at: datetime) -> float:
    at = at.astimezone(UTC)
    return at.hour + at.minute / 60 + at.second / 3600 + at.microsecond / 3.6e9


def eui(*parts: object) -> str:
    """A deterministic 16-hex-digit DevEUI (upper case)."""
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16].upper()
