from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sensorgrid.ingest import cache
from sensorgrid.ingest.envelope import Authority, Envelope


@pytest.fixture(autouse=True)
def fresh_directory():
    # Each test has its own database rows; cached node ids must not leak across tests.
    cache.directory.clear()
    yield
    cache.directory.clear()


def envelope(payload: bytes, authority: Authority | None = None, **kwargs) -> Envelope:
    return Envelope(
        source=kwargs.pop("source", "http"),
        topic=kwargs.pop("topic", "/api/v1/ingest/"),
        payload=payload,
        received_at=kwargs.pop("received_at", timezone.now()),
        content_type=kwargs.pop("content_type", "application/json"),
        authority=authority,
    )


def hours_ago(n: float) -> datetime:
    return (datetime.now(UTC) - timedelta(hours=n)).replace(microsecond=0)
