from datetime import UTC, datetime, timedelta

from django.utils import timezone

from sensorgrid.ingest.envelope import Authority, Envelope


def envelope(payload: bytes, authority: Authority | None = None, **kwargs) -> Envelope:
    return Envelope(
        source=kwargs.pop("source", "http"),
        topic=kwargs.pop("topic", "/api/v1/ingest/"),
        payload=payload,
        received_at=kwargs.pop("received_at", timezone.now()),
        content_type=kwargs.pop("content_type", "application/json"),
        authority=authority,
    )


# One anchor for the whole run: two calls in one test give the same instant even when
# a second ticks between them (tests build "the same message" twice from it).
_ANCHOR = datetime.now(UTC).replace(microsecond=0)


def hours_ago(n: float) -> datetime:
    return _ANCHOR - timedelta(hours=n)
