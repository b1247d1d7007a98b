"""Worker heartbeats: written by a periodic task, so a beat proves tasks really run."""

import os
import socket
from datetime import datetime, timedelta

from django.utils import timezone

from sensorgrid.worker.models import Heartbeat

KEEP = timedelta(days=1)  # beats of workers gone this long are deleted

_started_at = timezone.now()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(now: datetime | None = None) -> None:
    now = now or timezone.now()
    Heartbeat.objects.update_or_create(
        worker=worker_name(), defaults={"beat_at": now, "started_at": _started_at}
    )
    Heartbeat.objects.filter(beat_at__lt=now - KEEP).delete()


def newest() -> datetime | None:
    return Heartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
