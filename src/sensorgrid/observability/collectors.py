"""Metrics read from the database at scrape time, offered by the apps that own them.

They describe shared state (how many nodes are in each health state, how old the
newest worker heartbeat is), so they are computed by whichever process serves the
scrape instead of being kept as gauges by one of them. Each app registers its
collector from its ``ready()`` (fidelity: node health; worker: heartbeat age), so this
package imports no app and /metrics needs no list of them.
"""

import logging
from collections.abc import Iterable, Iterator
from typing import Protocol

from django.db import DatabaseError
from prometheus_client.core import Metric

log = logging.getLogger(__name__)


class Collector(Protocol):
    def collect(self) -> Iterable[Metric]: ...


_registered: list[Collector] = []


def register(collector: Collector) -> None:
    """Ask ``collector`` at every /metrics scrape, after those registered before it.

    Call it from an app's ``ready()``: the collectors then run in ``INSTALLED_APPS``
    order. The same collector registered twice is asked once.
    """
    if collector not in _registered:
        _registered.append(collector)


class Registered:
    """The registered collectors, as one more source of metrics for /metrics."""

    def collect(self) -> Iterator[Metric]:
        for collector in _registered:
            try:
                # Whole or nothing: a collector that fails halfway adds no half family.
                metrics = list(collector.collect())
            except DatabaseError as exc:  # /readyz reports the database; metrics stay up
                log.warning("database metrics skipped: %s", exc)
                continue
            yield from metrics
