"""Pictures of the simulator's camera scene stored as the images app stores them."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sensorgrid.alerts import scope
from sensorgrid.images import storage
from sensorgrid.images.models import Image
from sensorgrid.simulator import scenes

START = datetime(2026, 6, 1, tzinfo=UTC)
STEP = timedelta(minutes=20)  # 72 pictures a day


@pytest.fixture(autouse=True)
def image_store(settings, tmp_path):
    """The images storage in a directory of this test (the filesystem default)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "images": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "objects", "allow_overwrite": True},
        },
    }
    scope.index.clear()
    yield tmp_path / "objects"
    scope.index.clear()


def store_picture(node, at: datetime, anomaly: str | None = None, name: str = "camera") -> Image:
    """Camera 1 of seed 1's picture at ``at``, stored like an ingested one."""
    data = scenes.encode(scenes.picture(1, 1, at, anomaly))
    digest = hashlib.sha256(data).hexdigest()
    key = storage.base_key(node.pk, name, at, digest) + ".jpg"
    storage.save(key, data, "image/jpeg")
    return Image.objects.create(
        node=node,
        name=name,
        ts=at,
        received_at=timezone.now(),
        content_type="image/jpeg",
        size=len(data),
        width=scenes.WIDTH,
        height=scenes.HEIGHT,
        sha256=digest,
        key=key,
        thumbnail_key="",
    )


@pytest.fixture
def normal_day(world):
    """A day of normal pictures from world.node_a (72, every 20 minutes)."""
    return [store_picture(world.node_a, START + i * STEP) for i in range(72)]
