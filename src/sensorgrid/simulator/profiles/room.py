"""A classroom's CO2 monitor: CO2, temperature and humidity following the school day.

Monday to Friday (UTC), seven 45-minute lessons from 08:00 with breaks in between,
the long one at 10:30. During a lesson CO2 rises towards a plateau that depends on
the class (1,200–1,900 ppm); in a break the windows open and it falls back towards
the outdoor level; after school it decays slowly. Sent as SensorGrid JSON on
``sensorgrid/<device>/up``.
"""

import json
import math
from datetime import datetime

from sensorgrid.simulator.profiles.base import (
    Device,
    Profile,
    Uplink,
    device_time,
    hours_of_day,
    jitter,
    noise,
    trait,
)

OUTDOOR_CO2 = 420.0
#: (start hour, end hour) of the lessons; the gaps between them are breaks
LESSONS = [(8.0, 8.75), (8.833, 9.583), (9.667, 10.417), (10.667, 11.417), (11.5, 12.25),
           (13.0, 13.75), (13.833, 14.583)]  # fmt: skip


def occupied(at: datetime) -> bool:
    """Whether a lesson is going on at ``at``."""
    hour = hours_of_day(at)
    return at.weekday() < 5 and any(start <= hour < end for start, end in LESSONS)


def co2(device: Device, at: datetime) -> float:
    """The room's CO2 at ``at`` (ppm), before sensor noise."""
    plateau = trait(device, "plateau", 1200, 1900)
    hour = hours_of_day(at)
    level = OUTDOOR_CO2 + trait(device, "night", 10, 60)
    if at.weekday() >= 5 or hour < LESSONS[0][0]:
        return level
    clock = LESSONS[0][0]
    for start, end in LESSONS:
        if hour < start:  # a break (windows open): fast decay
            return _towards(level, OUTDOOR_CO2 + 30, hour - clock, 10 / 60)
        level = _towards(level, OUTDOOR_CO2 + 30, start - clock, 10 / 60)
        if hour < end:
            return _towards(level, plateau, hour - start, 25 / 60)
        level = _towards(level, plateau, end - start, 25 / 60)
        clock = end
    return _towards(level, OUTDOOR_CO2 + 20, hour - clock, 1.5)  # after school: slow


def _towards(value: float, target: float, hours: float, tau: float) -> float:
    return target + (value - target) * math.exp(-hours / tau)


class Room(Profile):
    key = "room"
    description = "classroom CO2 monitor: CO2/temperature/humidity over the school day"
    decoder = "json"
    ranges = {"co2": (400, 2000), "temperature": (15, 28), "humidity": (25, 70)}

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        people = occupied(at)
        value = co2(device, at) + noise(device, "co2", at, 25) + jitter(device, "co2j", at, 5)
        temperature = (
            trait(device, "temperature", 19.5, 21.5)
            + (1.5 if people else 0.0)
            + noise(device, "temperature", at, 0.3, 600)
        )
        humidity = (
            trait(device, "humidity", 35, 45)
            + (6.0 if people else 0.0)
            + noise(device, "humidity", at, 2, 900)
        )
        return {
            "co2": round(min(2000.0, max(400.0, value))),
            "temperature": round(temperature, 1),
            "humidity": round(humidity, 1),
        }

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        body = {"device": device.device_id, "ts": device_time(ts), "values": values}
        return Uplink(f"sensorgrid/{device.device_id}/up", json.dumps(body).encode(), ts)
