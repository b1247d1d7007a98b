"""Pictures, the two image stores (a temporary directory, an S3 emulator) and helpers.

No S3-compatible server can be installed on this machine: S3 is moto in server mode
(``moto_server``), a real HTTP S3 API on a free local port, started per test module.
"""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages
from PIL import Image as Pillow

from tests.servers import free_port, wait_for_port

BUCKET = "sensorgrid-images"


def picture(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 30, 30), gps: bool = False
) -> bytes:
    """A small picture in ``fmt``; with ``gps``, EXIF that says where it was taken."""
    image = Pillow.new("RGB", size, color)
    options: dict = {}
    if gps or fmt == "JPEG":
        exif = Pillow.Exif()
        exif[0x010F] = "SensorGrid test camera"  # Make
        if gps:
            exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)}
        options["exif"] = exif.tobytes()
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    return bool(Pillow.open(io.BytesIO(data)).getexif().get_ifd(0x8825))


def filesystem_store(directory: Path) -> dict:
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": directory, "allow_overwrite": True},
    }


def s3_store(endpoint: str) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "querystring_expire": 60,
            "signature_version": "s3v4",
            "file_overwrite": True,
            "default_acl": None,
        },
    }


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """A moto S3 server on a free port for the session, with the bucket."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    binary = Path(sys.executable).with_name("moto_server")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    try:
        wait_for_port(port, timeout=30)
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def _use(settings, config: dict) -> None:
    # Django's setting_changed receiver drops the cached storages.
    settings.STORAGES = {**settings.STORAGES, "images": config}


@pytest.fixture(autouse=True)
def images_dir(settings, tmp_path):
    """Every test stores into its own directory (never the var directory)."""
    directory = tmp_path / "images"
    _use(settings, filesystem_store(directory))
    return directory


@pytest.fixture(params=["filesystem", "s3"])
def store_kind(request, settings, images_dir):
    """Run the test on each store: the directory, then moto's S3."""
    if request.param == "s3":
        _use(settings, s3_store(request.getfixturevalue("moto_endpoint")))
        storages["images"].bucket.objects.all().delete()  # the server lives for the session
    return request.param


def objects(kind: str, images_dir: Path) -> set[str]:
    """Every key in the store."""
    if kind == "filesystem":
        return {str(p.relative_to(images_dir)) for p in images_dir.rglob("*") if p.is_file()}
    store = storages["images"]
    return {obj.key for obj in store.bucket.objects.all()}
