"""Whether the database answers, on /metrics: the one alert a down database cannot raise.

Every other database-backed metric is left out of a scrape while the database is down
(sensorgrid.observability.collectors), and an absent series raises no alert by itself.
This gauge is there either way: 1 when the readiness probe's ``SELECT 1`` succeeds, 0 when
it fails. Registered by ``HealthConfig.ready()``.
"""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from sensorgrid.health import checks


class DatabaseUpCollector:
    def collect(self) -> Iterator[Metric]:
        result = checks._timed("database", checks.database, required=True)
        yield GaugeMetricFamily(
            "sensorgrid_database_up",
            "1 when the database answers the readiness probe's SELECT 1, 0 when it does not.",
            value=1.0 if result.ok else 0.0,
        )
