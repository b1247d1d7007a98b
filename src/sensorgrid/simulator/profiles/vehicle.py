"""A city bus: speed, heading and GPS position along a loop of waypoints.

Each bus drives the loop at its own average speed, starting at its own point of it;
its position is where that distance takes it at the given time, so the position is a
pure function of time. Sent in the vehicle format on ``device/data/<device>``.
"""

import json
import math
from datetime import datetime

from sensorgrid.simulator.profiles.base import (
    Device,
    Profile,
    Uplink,
    device_time,
    jitter,
    noise,
    trait,
)

#: a loop through a city centre (lat, lon), closed back to the first point
ROUTE = [
    (48.1374, 11.5755),
    (48.1402, 11.5600),
    (48.1451, 11.5581),
    (48.1496, 11.5680),
    (48.1459, 11.5840),
    (48.1372, 11.5861),
    (48.1330, 11.5790),
]
EARTH_RADIUS = 6_371_000.0  # m


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS * math.asin(math.sqrt(h))


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


LEGS = [(a, b, _distance(a, b)) for a, b in zip(ROUTE, ROUTE[1:] + ROUTE[:1], strict=True)]
LENGTH = sum(length for *_, length in LEGS)


def position(metres: float) -> tuple[float, float, float]:
    """(lat, lon, heading) ``metres`` along the loop."""
    metres %= LENGTH
    for a, b, length in LEGS:
        if metres <= length:
            f = metres / length
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, _bearing(a, b)
        metres -= length
    a, b, _ = LEGS[-1]
    return b[0], b[1], _bearing(a, b)


class Vehicle(Profile):
    key = "vehicle"
    description = "city bus: speed, heading and GPS position along a route of waypoints"
    decoder = "vehicle"
    ranges = {"speed": (0, 70), "heading": (0, 360), "battery": (11.5, 14.5)}

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        average = trait(device, "speed", 18, 28) / 3.6  # m/s, stops included
        start = trait(device, "start", 0, LENGTH)
        lat, lon, heading = position(start + average * at.timestamp())
        # Stop-and-go around the average: slower at stops, faster between them.
        speed = average * 3.6 * (1 + 0.6 * math.sin(at.timestamp() / 40)) + noise(
            device, "speed", at, 4, 10
        )
        return {
            "speed": round(min(70.0, max(0.0, speed)), 1),
            "latitude": round(lat, 6),
            "longitude": round(lon, 6),
            "heading": round(heading, 1),
            "battery": round(13.6 + jitter(device, "battery", at, 0.3), 2),
        }

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        body: dict[str, object] = {"device_id": device.device_id, "timestamp": device_time(ts)}
        body["speed"] = values.get("speed")
        if "latitude" in values:
            body["location"] = {
                "lat": values["latitude"],
                "lon": values["longitude"],
                "heading": values["heading"],
            }
        if "battery" in values:
            body["telemetry"] = {"battery": values["battery"]}
        return Uplink(f"device/data/{device.device_id}", json.dumps(body).encode(), ts)
