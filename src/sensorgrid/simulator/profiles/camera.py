"""A camera node sending pictures of its scene on ``sensorgrid/<device>/image/camera``.

The pictures are the simulator's deterministic scene (``simulator.scenes``): light
following the time of day, sensor noise, and now and then an injected anomaly (an
object in view, a covered lens, a black frame; ``scenes.ANOMALY_RATE`` of the
pictures). Each message is the images route's JSON envelope: the device's time and the
JPEG bytes in base64, so a picture's time is the simulated one (docs/images.md). Over
MQTT only: the images' HTTP ingest takes raw bytes on its own URL. Rendering needs
numpy (the ``outliers`` extra); the reading itself is only which anomaly, if any.
"""

import base64
import json
from datetime import datetime

from sensorgrid.simulator.profiles.base import Device, Profile, Uplink, device_time

#: the reading's ``anomaly`` value → the injected anomaly (0: none)
CODES = {1: "object", 2: "covered", 3: "black"}
NAME = "camera"


class Camera(Profile):
    key = "camera"
    description = "camera: JPEG pictures of a scene with daylight, noise and injected anomalies"
    decoder = "image"

    def reading(self, device: Device, at: datetime) -> dict[str, float]:
        from sensorgrid.simulator import scenes

        anomaly = scenes.anomaly_at(device.seed, device.index, at)
        return {"anomaly": next((c for c, a in CODES.items() if a == anomaly), 0)}

    def encode(
        self, device: Device, values: dict[str, float], ts: datetime, sequence: int
    ) -> Uplink:
        from sensorgrid.simulator import scenes

        anomaly = CODES.get(int(values.get("anomaly", 0)))
        data = scenes.encode(scenes.picture(device.seed, device.index, ts, anomaly))
        body = {"ts": device_time(ts), "data": base64.b64encode(data).decode()}
        return Uplink(f"sensorgrid/{device.device_id}/image/{NAME}", json.dumps(body).encode(), ts)
