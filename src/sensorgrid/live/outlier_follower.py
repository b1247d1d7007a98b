"""Outlier scores made by the worker, for the in-memory channel layer.

The worker scores pictures (``outliers.score``) and announces ``OutlierScored``; with
Redis its ``outlier_scored`` receiver publishes through the shared layer. The in-memory
layer reaches only its own process (``sensorgrid demo`` and ``serve`` without Redis),
so a web process without Redis reads the scores other processes stored
(``OutlierScore`` rows, by id) every ``INTERVAL`` seconds while a browser listens, and
publishes them to its own clients, as ``status_follower`` does for health changes.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.db import DatabaseError

from sensorgrid.live.publish import outlier_scored, publisher
from sensorgrid.outliers.events import OutlierScored
from sensorgrid.outliers.models import OutlierScore

log = logging.getLogger(__name__)

INTERVAL = 2.0
#: the most scores published per round (a backlog beyond is skipped: newest wins)
BATCH = 500


def _newest_id() -> int:
    return OutlierScore.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _since(last_id: int) -> tuple[int, list[OutlierScored]]:
    """The newest id, and the scores stored after ``last_id`` (at most BATCH, newest)."""
    rows = list(
        OutlierScore.objects.filter(id__gt=last_id)
        .select_related("node", "model")
        .order_by("-id")[:BATCH]
    )
    events = [
        OutlierScored(
            score_id=s.pk,
            image_id=s.image_id,
            node_id=s.node_id,
            organization_id=s.node.organization_id,
            name=s.name,
            ts=s.ts,
            score=s.score,
            threshold=s.threshold,
            is_outlier=s.is_outlier,
            model_version=s.model.version,
        )
        for s in reversed(rows)
    ]
    return (rows[0].pk if rows else last_id), events


async def follow(interval: float = INTERVAL) -> None:
    """Run until cancelled; database outages are logged and retried."""
    last_id = None
    while True:
        try:
            if not publisher.enabled():
                last_id = None  # nobody listens: start from the newest when somebody does
            elif last_id is None:
                last_id = await database_sync_to_async(_newest_id)()
            else:
                last_id, events = await database_sync_to_async(_since)(last_id)
                for event in events:
                    outlier_scored(event)
        except DatabaseError as exc:
            log.warning("outlier scores not followed: %s", exc)
        await asyncio.sleep(interval)
