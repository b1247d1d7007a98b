"""``GET /metrics``: every metric of this host's SensorGrid processes, for Prometheus."""

import logging
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from sensorgrid.observability import collectors, multiprocess

log = logging.getLogger(__name__)


@csrf_exempt
@never_cache
@require_safe
def metrics(request):
    """The metrics in Prometheus text format, summed over all processes in multiprocess mode.

    With ``SENSORGRID_METRICS_DIR`` set, the values come from the files every process
    writes there (this one included, if it was started by ``sensorgrid``); otherwise
    from this process's memory.
    """
    directory = settings.SENSORGRID_METRICS_DIR
    if directory:
        _warn_if_not_writing(directory)
        Path(directory).mkdir(parents=True, exist_ok=True)
        registry = CollectorRegistry()
        # An explicit path: this process may have imported prometheus_client before
        # the environment variable was set (then it reads, but does not write).
        MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    # The format the scraper asks for (Prometheus text or OpenMetrics), as
    # prometheus_client's own server does.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(
        encode(_Together(registry, collectors.Registered())), content_type=content_type
    )


class _Together:
    """The process metrics and those the apps read from the database, as one registry."""

    def __init__(self, *sources) -> None:
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


@cache
def _warn_if_not_writing(directory: str) -> None:
    """Say once if this process's own metrics are missing from the sum."""
    if not multiprocess.writes_to(directory):
        log.warning(
            "SENSORGRID_METRICS_DIR=%s, but this process keeps its metrics in memory: "
            "start it with the `sensorgrid` command or set PROMETHEUS_MULTIPROC_DIR",
            directory,
        )
