"""The edge between paho's network thread and our callbacks: nothing raises across it.

paho lets an exception from a callback end its network thread: the client then idles,
connected in name, and nothing more is received, acknowledged or published until the
process restarts. Every callback a client of ours registers (``make_client`` installs
them) is wrapped here: an exception is logged with its traceback, counted, and the
connection carries on.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

log = logging.getLogger(__name__)

# The name is the ingester's, from before every client was guarded: dashboards and
# alerts on `sensorgrid_ingest_callback_errors_total` keep working; `client` tells
# the ingester's errors from the alert channel's or the simulator's.
CALLBACK_ERRORS = Counter(
    "sensorgrid_ingest_callback_errors",
    "Exceptions raised in a callback of an MQTT client, by client and callback; "
    "the connection stayed up.",
    ["client", "callback"],
)


def guarded(
    client: str, callback: str, function: Callable[..., None], consequence: str = ""
) -> Callable[..., None]:
    """``function`` that never raises into paho's thread; ``consequence`` ends its log line."""

    @functools.wraps(function)
    def guard(*args: Any) -> None:
        try:
            function(*args)
        except Exception:
            CALLBACK_ERRORS.labels(client, callback).inc()
            log.exception(
                "the %s MQTT client's %s callback failed; the connection stays up%s",
                client,
                callback,
                consequence,
            )

    return guard
