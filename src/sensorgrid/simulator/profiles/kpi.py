"""A smart-city air sensor sending KPI messages on ``kpi/<clientId>/air``.

The same climate as the outdoor profile, plus CO2 and noise, each as a KPI with a
unit id of the KPI table (docs/devices.md).
"""

import json
from datetime import datetime

from sensorgrid.simulator.profiles.base import Device, Profile, Uplink, device_time, noise, trait
from sensorgrid.simulator.profiles.outdoor import Outdoor

#: quantity → (KPI name, unit id)
KPIS = {
    "temperature": ("temperature", 1),
    "humidity": ("humidity", 103),
    "pm2_5": ("PM2.5", "µg/m³"),
    "co2": ("co2", 100),
    "noise": ("noiseLevel", 107),
}


class Kpi(Profile):
    key = "kpi"
    description = "smart-city air sensor: KPI messages (temperature, humidity, PM2.5, CO2, noise)"
    decoder = "kpi"
    ranges = {
        "temperature": (-20, 45),
        "humidity": (5, 100),
        "pm2_5": (0, 300),
        "co2": (380, 700),
        "noise": (30, 95),
    }

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        climate = Outdoor().reading(device, at)
        co2 = 420 + trait(device, "co2", 0, 60) + noise(device, "co2", at, 20, 900)
        sound = 52 + 10 * (climate["pm2_5"] / 30) + noise(device, "noise", at, 6, 30)
        return {
            "temperature": climate["temperature"],
            "humidity": climate["humidity"],
            "pm2_5": climate["pm2_5"],
            "co2": round(co2),
            "noise": round(min(95.0, max(30.0, sound)), 1),
        }

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        body = {
            "clientId": device.device_id,
            "unixTimestamp": int(ts.timestamp() * 1000),
            "timestamp": device_time(ts),
            "kpis": [
                {"name": KPIS[key][0], "unitId": KPIS[key][1], "value": value}
                for key, value in values.items()
            ],
        }
        return Uplink(f"kpi/{device.device_id}/air", json.dumps(body).encode(), ts)
