"""Credentials this process has checked, trusted for ``SENSORGRID_INGEST_CREDENTIAL_TTL``.

A device posts every few seconds with the same credential; looking it up every time
was a database query per ingest request. Only credentials that were found are kept
(a wrong one is looked up every time). Issuing, rotating or deleting a node
credential or an ingest key clears this process's entries at once; other processes
notice within the TTL (docs/ingest.md). ``0`` turns the cache off.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from sensorgrid.ingest.envelope import Authority

#: More distinct credentials than this in one TTL: start again rather than grow.
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class Trusted:
    authority: Authority
    #: the organization ingest key's id; None for a node credential
    key_id: int | None = None
    #: its organization is suspended (tenancy): the request is refused
    suspended: bool = False
    #: a node credential's node's device id ("" for an ingest key): the device of
    #: InfluxDB lines without a device tag, known without a query per request
    device_id: str = ""


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Trusted]] = {}

    def get(self, digest: str) -> Trusted | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, trusted: Trusted) -> None:
        ttl = settings.SENSORGRID_INGEST_CREDENTIAL_TTL
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + ttl, trusted)

    def clear(self, *args: object, **kwargs: object) -> None:
        with self._lock:
            self._entries.clear()


trusted = _Cache()


def connect_invalidation() -> None:
    from sensorgrid.ingest.models import IngestKey
    from sensorgrid.inventory.models import Node
    from sensorgrid.tenancy.models import Organization

    for signal in (post_save, post_delete):
        for model in (Node, IngestKey, Organization):
            signal.connect(
                trusted.clear, sender=model, dispatch_uid=f"ingest-credentials-{model.__name__}"
            )
