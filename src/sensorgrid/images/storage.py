"""Where the bytes of pictures live: Django's ``images`` storage (docs/images.md).

Settings ``STORAGES["images"]`` is a ``FileSystemStorage`` under
``SENSORGRID_IMAGES_DIR`` by default, django-storages' ``S3Storage`` when
``SENSORGRID_S3_BUCKET`` is set. Everything else goes through these functions, so no
caller knows which one it is.

Keys are derived from what a picture is (node, name, time, content hash), never chosen
at random: a picture sent again, or a batch retried after its transaction rolled back,
writes the same objects again instead of leaving orphans beside them.
"""

import hashlib
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction

log = logging.getLogger(__name__)

ALIAS = "images"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def store() -> Storage:
    """The images storage (configured by settings ``STORAGES["images"]``)."""
    return storages[ALIAS]


def is_s3() -> bool:
    """Whether objects live in an S3-compatible store (downloads may redirect there)."""
    return type(store()).__module__.startswith("storages.backends.s3")


def base_key(node_id: int, name: str, ts: datetime, sha256: str) -> str:
    """The key prefix of one picture's objects: ``images/<node>/<name>/<day>/<time>-<hash>``.

    Per node and day, so a node's objects (deletion, retention) are one prefix each.
    """
    digest = hashlib.sha256(f"{name}\x00{ts.isoformat()}\x00{sha256}".encode()).hexdigest()
    return f"images/{node_id}/{name}/{ts:%Y/%m/%d}/{ts:%H%M%S%f}-{digest[:20]}"


def derived_key(original_key: str, kind: str, content_type: str) -> str:
    """The key of an object made from a picture (``thumbnail``, ``reconstruction``…)."""
    stem = original_key.rsplit(".", 1)[0]
    return f"{stem}.{kind}.{EXTENSIONS[content_type]}"


def save(key: str, data: bytes, content_type: str) -> None:
    """Write ``data`` under ``key`` (replacing what is there)."""
    content = ContentFile(data)
    content.content_type = content_type  # type: ignore[attr-defined]  # S3Storage reads it
    saved = store().save(key, content)
    if saved != key:  # a storage that renames instead of replacing would lose the key
        raise RuntimeError(f"the images storage saved {key!r} as {saved!r}")


def open_chunks(key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """The object's bytes in chunks (for a streamed response); FileNotFoundError if gone."""
    with store().open(key, "rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def sha256(key: str) -> str:
    """Hex sha256 of the object's bytes as stored, read in chunks; FileNotFoundError if gone."""
    digest = hashlib.sha256()
    for chunk in open_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


def read(key: str) -> bytes:
    with store().open(key, "rb") as handle:
        return handle.read()


def size(key: str) -> int:
    return store().size(key)


def exists(key: str) -> bool:
    return store().exists(key)


def signed_url(key: str, content_type: str, filename: str) -> str:
    """A short-lived URL of the object in the S3 store (``SENSORGRID_S3_SIGNED_URL_SECONDS``),
    answered with this Content-Type and as an inline download named ``filename``."""
    return store().url(  # type: ignore[call-arg]  # S3Storage.url takes parameters
        key,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": f'inline; filename="{filename}"',
        },
    )


def delete(keys: Iterable[str]) -> None:
    """Delete objects now; a missing one is fine, a failing one is logged (an orphan
    object costs storage, never a wall: nothing points at it any more)."""
    target = store()
    for key in keys:
        if not key:
            continue
        try:
            target.delete(key)
        except Exception:
            log.exception("could not delete image object %s", key)


def delete_on_commit(keys: Iterable[str]) -> None:
    """Delete objects once the transaction that dropped their rows commits (at once
    outside one); a rollback keeps them."""
    wanted = [key for key in keys if key]
    if wanted:
        transaction.on_commit(lambda: delete(wanted))
