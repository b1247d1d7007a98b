"""An Elsys ERS CO2 room sensor heard through The Things Stack v3 (docs/lorawan.md).

The same room as the ``lorawan`` profile, sent the way the real device does: an Elsys
frame of type-value pairs on port 5 (temperature, humidity, light, PIR motion count,
CO2), which the node model's ``elsys`` codec decodes. The demo's sports-hall sensor.
"""

import struct
from datetime import datetime

from sensorgrid.simulator.profiles.base import Device, noise
from sensorgrid.simulator.profiles.lorawan import LoRaWan


def elsys_frame(values: dict[str, float]) -> bytes:
    """The Elsys payload of the values (types 0x01, 0x02, 0x04, 0x05, 0x06)."""
    frame = b""
    if "temperature" in values:
        frame += struct.pack(">Bh", 0x01, round(values["temperature"] * 10))
    if "humidity" in values:
        frame += struct.pack(">BB", 0x02, min(100, max(0, round(values["humidity"]))))
    if "illuminance" in values:
        frame += struct.pack(">BH", 0x04, min(65535, max(0, round(values["illuminance"]))))
    if "motion_count" in values:
        frame += struct.pack(">BB", 0x05, min(255, max(0, round(values["motion_count"]))))
    if "co2" in values:
        frame += struct.pack(">BH", 0x06, min(65535, max(0, round(values["co2"]))))
    return frame


class Elsys(LoRaWan):
    key = "elsys"
    description = "Elsys ERS CO2 via The Things Stack v3, Elsys frame"
    codec = "elsys"
    f_port = 5
    ranges = {**LoRaWan.ranges, "humidity": (25, 70), "motion_count": (0, 60)}

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        values = super().reading(device, at)
        # People moving: PIR events rise with the CO2 people breathe out.
        busy = max(0.0, (values["co2"] - 450) / 40)
        values["motion_count"] = round(max(0.0, busy + noise(device, "pir", at, 3, 120)))
        values["humidity"] = round(values["humidity"])  # the frame carries whole percent
        return values

    def frame(self, values: dict[str, float]) -> bytes:
        return elsys_frame(values)
