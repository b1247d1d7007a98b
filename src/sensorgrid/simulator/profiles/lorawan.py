"""A LoRaWAN room sensor heard through The Things Stack v3 (docs/lorawan.md).

The device sends a Cayenne LPP frame (temperature, humidity, illuminance, CO2); the
network server publishes it as a TTS v3 uplink on
``v3/sensorgrid@demo/devices/<device>/up`` without a ``decoded_payload``, so the node
model's codec (``cayenne_lpp``) decodes it. One to three gateways hear each uplink.
The node's device id is the DevEUI (16 upper-case hex digits).
"""

import base64
import json
import math
import struct
from datetime import datetime
from typing import ClassVar

from sensorgrid.simulator.profiles.base import (
    Device,
    Profile,
    Uplink,
    device_time,
    eui,
    hours_of_day,
    jitter,
    noise,
    rng,
    trait,
)
from sensorgrid.simulator.profiles.room import Room

APPLICATION = "sensorgrid"
TENANT = "demo"
FREQUENCIES = [868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000]
GATEWAYS = ["sim-gw-school", "sim-gw-townhall", "sim-gw-harbour"]
#: Where the simulated gateways stand (near the demo's sites in Munich): The Things Stack
#: reports a gateway's location with each reception, and the map's gateway layer shows it.
GATEWAY_LOCATIONS = {
    "sim-gw-school": (48.1342, 11.5790),
    "sim-gw-townhall": (48.1374, 11.5755),
    "sim-gw-harbour": (48.1432, 11.5570),
}


def lpp(values: dict[str, float]) -> bytes:
    """A Cayenne LPP frame of the values (channels 1–4)."""
    frame = b""
    if "temperature" in values:
        frame += struct.pack(">BBh", 1, 103, round(values["temperature"] * 10))
    if "humidity" in values:
        frame += struct.pack(">BBB", 2, 104, min(255, max(0, round(values["humidity"] * 2))))
    if "illuminance" in values:
        frame += struct.pack(">BBH", 3, 101, min(65535, max(0, round(values["illuminance"]))))
    if "co2" in values:
        frame += struct.pack(">BBH", 4, 125, min(65535, max(0, round(values["co2"]))))
    return frame


class LoRaWan(Profile):
    key = "lorawan"
    description = "LoRaWAN room sensor via The Things Stack v3, Cayenne LPP frame"
    decoder = "ttn"
    codec = "cayenne_lpp"
    ranges = {
        "temperature": (15, 28),
        "humidity": (25, 70),
        "illuminance": (0, 1200),
        "co2": (400, 2000),
    }

    #: the LoRaWAN port the device sends its frames on
    f_port: ClassVar[int] = 1

    def device(self, index: int, seed: int) -> Device:
        return Device(index, seed, eui(f"sim-{self.key}", seed, index))

    def frame(self, values: dict[str, float]) -> bytes:
        """The bytes the device sends (``frm_payload``), for the node model's codec."""
        return lpp(values)

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        room = Room().reading(device, at)
        hour = hours_of_day(at)
        daylight = max(0.0, math.sin(math.pi * (hour - 6) / 13)) if 6 <= hour <= 19 else 0.0
        lux = 700 * daylight * trait(device, "window", 0.5, 1.3) + noise(device, "lux", at, 40)
        return {
            "temperature": room["temperature"],
            "humidity": room["humidity"],
            "illuminance": round(max(0.0, lux + (150 if daylight else 0))),
            "co2": room["co2"],
        }

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        draw = rng(device.seed, device.index, "radio", sequence)
        spreading_factor = min(
            12, max(7, round(trait(device, "sf", 7, 10)) + draw.choice([0, 0, 1]))
        )
        heard = draw.randint(1, 3)
        metadata = []
        for number, gateway in enumerate(GATEWAYS[:heard]):
            rssi = trait(device, f"rssi{number}", -118, -60) + jitter(device, f"r{number}", ts, 4)
            metadata.append(
                {
                    "gateway_ids": {"gateway_id": gateway},
                    "location": dict(
                        zip(("latitude", "longitude"), GATEWAY_LOCATIONS[gateway], strict=True),
                        source="SOURCE_REGISTRY",
                    ),
                    "time": device_time(ts),
                    "rssi": round(rssi),
                    "channel_rssi": round(rssi),
                    "snr": round(
                        min(12.0, max(-20.0, (rssi + 118) / 4 - 6 + draw.uniform(-2, 2))), 1
                    ),
                }
            )
        ttn_id = f"eui-{device.device_id.lower()}"
        body = {
            "end_device_ids": {
                "device_id": ttn_id,
                "application_ids": {"application_id": APPLICATION},
                "dev_eui": device.device_id,
            },
            "received_at": device_time(ts),
            "uplink_message": {
                "f_port": self.f_port,
                "f_cnt": sequence,
                "frm_payload": base64.b64encode(self.frame(values)).decode(),
                "rx_metadata": metadata,
                "settings": {
                    "data_rate": {
                        "lora": {"bandwidth": 125000, "spreading_factor": spreading_factor}
                    },
                    "frequency": str(draw.choice(FREQUENCIES)),
                },
                "received_at": device_time(ts),
            },
        }
        topic = f"v3/{APPLICATION}@{TENANT}/devices/{ttn_id}/up"
        return Uplink(topic, json.dumps(body).encode(), ts)
