"""Deterministic synthetic pictures of a scene for the ``camera`` profile (docs/images.md).

A camera looks at a fixed scene (sky, a building with windows, a tree, a road). The
picture at a time ``at`` is a pure function of (seed, camera index, at): the light
follows the hour of the day (dim at night, brightest at noon, a warmer tint at dawn and
dusk), the sensor adds noise, and the scene's own details (a window lit or not, the
tree's sway) change slowly. Some pictures carry an injected anomaly:

- ``object``: something in view (a parcel, a person-sized blob, a vehicle) that the
  scene never shows;
- ``covered``: a hand, a leaf or dirt over most of the lens (a smooth dark blot);
- ``black``: a black frame (a dead sensor, a covered lens at night).

``anomaly_at`` says which (or none) for one picture, so the benchmark and the tests know
the truth. numpy and Pillow come with the ``outliers`` extra.
"""

from __future__ import annotations

import io
import math
import random
from datetime import UTC, datetime

from sensorgrid import extras

ANOMALIES = ("object", "covered", "black")
WIDTH, HEIGHT = 160, 120
#: share of pictures with an injected anomaly (the profile's default)
ANOMALY_RATE = 0.05


def _np():
    return extras.require("numpy", "outliers", "The camera profile")


def _image_module():
    return extras.require("PIL.Image", "outliers", "The camera profile")


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def daylight(at: datetime) -> float:
    """Scene brightness from 0.3 (night, street lights) to 1.0 (noon), smooth in time."""
    at = at.astimezone(UTC)
    hour = at.hour + at.minute / 60 + at.second / 3600
    sun = math.sin(math.pi * (hour - 6) / 12)  # > 0 from 06:00 to 18:00
    return 0.3 + 0.7 * max(sun, 0.0) ** 0.7


def anomaly_at(seed: int, index: int, at: datetime, rate: float = ANOMALY_RATE) -> str | None:
    """The anomaly injected into camera ``index``'s picture at ``at``, or None."""
    draw = _rng(seed, index, "anomaly", int(at.timestamp()))
    if draw.random() >= rate:
        return None
    return draw.choice(ANOMALIES)


def _background(seed: int, index: int):
    """The scene in full light, float RGB in [0, 1] (HEIGHT × WIDTH × 3)."""
    np = _np()
    r = _rng(seed, index, "scene")
    y = np.linspace(0, 1, HEIGHT)[:, None]
    x = np.linspace(0, 1, WIDTH)[None, :]
    img = np.zeros((HEIGHT, WIDTH, 3))
    horizon = r.uniform(0.5, 0.6)
    sky = y < horizon
    img[..., 0] = np.where(sky, 0.45 + 0.3 * y, 0.32)
    img[..., 1] = np.where(sky, 0.62 + 0.2 * y, 0.42)
    img[..., 2] = np.where(sky, 0.95 - 0.1 * y, 0.28)
    # a road across the ground
    road = (y > horizon + 0.18) & (y < horizon + 0.3)
    img[road[:, 0], :, :] = 0.35
    # a building with a grid of windows
    left, right = r.uniform(0.08, 0.2), r.uniform(0.45, 0.6)
    top = r.uniform(0.15, 0.25)
    building = (x > left) & (x < right) & (y > top) & (y < horizon + 0.05)
    img[building] = (0.7, 0.55, 0.45)
    for row in np.arange(top + 0.05, horizon - 0.02, 0.09):
        for col in np.arange(left + 0.03, right - 0.03, 0.07):
            window = (x > col) & (x < col + 0.035) & (y > row) & (y < row + 0.05)
            img[window] = (0.25, 0.3, 0.4)
    # a tree: trunk and crown
    cx, cy = r.uniform(0.7, 0.85), horizon - 0.12
    crown = (x - cx) ** 2 / 0.01 + (y - cy) ** 2 / 0.02 < 1
    trunk = (abs(x - cx) < 0.015) & (y > cy) & (y < horizon + 0.06)
    img[trunk] = (0.35, 0.25, 0.15)
    img[crown] = (0.2, 0.45, 0.2)
    return img


_backgrounds: dict[tuple[int, int], object] = {}


def picture(seed: int, index: int, at: datetime, anomaly: str | None = None, noise: float = 0.03):
    """Camera ``index``'s picture at ``at`` as uint8 RGB (HEIGHT × WIDTH × 3).

    ``anomaly`` is injected as given (None: a normal picture); see ``anomaly_at``.
    """
    np = _np()
    key = (seed, index)
    if key not in _backgrounds:
        _backgrounds[key] = _background(seed, index)
    base = _backgrounds[key].copy()  # type: ignore[attr-defined]
    r = _rng(seed, index, "picture", at.timestamp())
    gen = np.random.default_rng(r.getrandbits(64))
    light = daylight(at)
    hour = at.astimezone(UTC).hour
    warm = 0.08 if hour in (6, 7, 17, 18) else 0.0  # dawn and dusk
    img = base * light
    img[..., 0] += warm
    img[..., 2] -= warm
    # the tree sways a little: shift its columns by at most 2 pixels
    sway = round(2 * math.sin(at.timestamp() / 600))
    right = slice(int(WIDTH * 0.62), WIDTH)
    img[:, right] = np.roll(img[:, right], sway, axis=1)
    if anomaly == "object":
        w, h = r.randint(WIDTH // 4, WIDTH // 2), r.randint(HEIGHT // 3, HEIGHT // 2)
        x0, y0 = r.randint(0, WIDTH - w), r.randint(HEIGHT // 3, HEIGHT - h)
        # a white van or a dark coat: unlike the scene in brightness, not only in colour
        bright = r.random() < 0.5
        colour = np.array([0.95, 0.92, 0.8]) if bright else np.array([0.06, 0.05, 0.08])
        img[y0 : y0 + h, x0 : x0 + w] = colour * (max(light, 0.8) if bright else 1.0)
    elif anomaly == "covered":
        y = np.linspace(-1, 1, HEIGHT)[:, None]
        x = np.linspace(-1, 1, WIDTH)[None, :]
        cx, cy = r.uniform(-0.4, 0.4), r.uniform(-0.4, 0.4)
        blot = np.clip(1.4 - np.sqrt((x - cx) ** 2 + (y - cy) ** 2), 0, 1)[..., None]
        img = img * (1 - blot) + blot * np.array([0.18, 0.12, 0.1])
    elif anomaly == "black":
        img = np.zeros_like(img)
    elif anomaly is not None:
        raise ValueError(f"unknown anomaly {anomaly!r}; known: {', '.join(ANOMALIES)}")
    img = img + gen.normal(0.0, noise, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def encode(pixels, fmt: str = "JPEG", quality: int = 85) -> bytes:
    """The picture as JPEG (or PNG) bytes, as a camera sends it."""
    image = _image_module().fromarray(pixels, "RGB")
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, fmt)
    return out.getvalue()
