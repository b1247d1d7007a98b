"""An outdoor air-quality station: weather and particulate matter with daily cycles.

Temperature peaks mid-afternoon, humidity moves the other way, pressure drifts over
days, PM2.5 and PM10 rise with the morning and evening rush hours. Sent as SensorGrid
JSON on ``sensorgrid/<device>/up``.
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


def _rush(hour: float) -> float:
    """0…1: how much traffic there is (peaks at 08:00 and 17:30)."""
    return math.exp(-(((hour - 8) / 1.2) ** 2)) + 0.8 * math.exp(-(((hour - 17.5) / 1.5) ** 2))


class Outdoor(Profile):
    key = "outdoor"
    description = "outdoor station: temperature/humidity/pressure/PM2.5/PM10, diurnal cycles"
    decoder = "json"
    ranges = {
        "temperature": (-20, 45),
        "humidity": (5, 100),
        "pressure": (950, 1050),
        "pm2_5": (0, 300),
        "pm10": (0, 500),
    }

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        hour = hours_of_day(at)
        daily = math.sin(2 * math.pi * (hour - 9) / 24)  # +1 at 15:00, −1 at 03:00
        mean = trait(device, "mean", 4, 16)
        temperature = mean + 5 * daily + noise(device, "temperature", at, 1.0, 1800)
        humidity = 70 - 18 * daily + noise(device, "humidity", at, 5, 1800)
        days = at.timestamp() / 86400
        pressure = (
            1013
            + 9 * math.sin(2 * math.pi * days / 4.3 + trait(device, "front", 0, 6.3))
            + noise(device, "pressure", at, 0.5, 3600)
        )
        pm2_5 = trait(device, "pm", 5, 12) * (1 + 1.5 * _rush(hour)) + noise(
            device, "pm2_5", at, 2, 600
        )
        pm10 = pm2_5 * trait(device, "coarse", 1.4, 1.9) + jitter(device, "pm10", at, 1.5)
        return {
            "temperature": round(temperature, 1),
            "humidity": round(min(100.0, max(5.0, humidity)), 1),
            "pressure": round(pressure, 1),
            "pm2_5": round(max(0.0, pm2_5), 1),
            "pm10": round(max(0.0, pm10), 1),
        }

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        body = {"device": device.device_id, "ts": device_time(ts), "values": values}
        return Uplink(f"sensorgrid/{device.device_id}/up", json.dumps(body).encode(), ts)
