"""Health changes recorded by other processes, for the in-memory channel layer.

With Redis, the worker's ``status_changed`` receiver publishes through the shared
layer. The in-memory layer reaches only its own process, so a web process without
Redis reads the changes the worker recorded (``NodeStatusChange`` rows, a few a
minute) every ``INTERVAL`` seconds and publishes them to its own clients.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.db import DatabaseError

from sensorgrid.fidelity.models import NodeStatusChange
from sensorgrid.live.publish import publisher

log = logging.getLogger(__name__)

INTERVAL = 10.0


def _newest_id() -> int:
    return NodeStatusChange.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _since(last_id: int) -> list[tuple[int, int, str, float]]:
    rows = NodeStatusChange.objects.filter(id__gt=last_id).order_by("id")[:10_000]
    return [(c.id, c.node_id, c.to_status, c.at.timestamp()) for c in rows]


async def follow(interval: float = INTERVAL) -> None:
    """Run until cancelled; database outages are logged and retried."""
    last_id = None
    while True:
        try:
            if last_id is None:
                last_id = await database_sync_to_async(_newest_id)()
            else:
                changes = await database_sync_to_async(_since)(last_id)
                if changes:
                    last_id = changes[-1][0]
                    publisher.offer_status({node: (to, at) for _, node, to, at in changes})
        except DatabaseError as exc:
            log.warning("health changes not followed: %s", exc)
        await asyncio.sleep(interval)
