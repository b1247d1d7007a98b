"""Replaying dead letters through the pipeline once their cause is fixed."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.telemetry.models import DeadLetter

REPLAY_FIELDS = ("replay_count", "replayed_at", "resolved_at", "reason", "detail")


@dataclass(frozen=True, slots=True)
class Replayed:
    letter: DeadLetter
    stored: bool  # every value of the letter is now stored
    accepted: int
    duplicates: int


def replay(letter: DeadLetter) -> Replayed:
    """Run ``letter`` through the pipeline again and record the result on it.

    A letter whose values are all stored now is resolved; one that still fails keeps
    its place with the new reason (no second dead letter is filed).
    """
    envelope = Envelope(
        source=letter.source,
        topic=letter.topic,
        payload=bytes(letter.payload),
        received_at=letter.received_at,
        content_type=letter.content_type,
        # The sender's organization still bounds what the letter may write.
        authority=Authority(letter.organization_id) if letter.organization_id else None,
    )
    with transaction.atomic():
        outcome = pipeline.ingest(envelope, letter.decoder, keep_dead_letters=False)
        problem = outcome.refused or (outcome.rejected[0] if outcome.rejected else None)
        letter.replay_count += 1
        letter.replayed_at = timezone.now()
        if problem is None:
            letter.resolved_at = letter.replayed_at
        else:
            details = [r.detail for r in outcome.rejected] or [problem.detail]
            letter.reason, letter.detail = problem.reason, "; ".join(details)
        letter.save(
            update_fields=["replay_count", "replayed_at", "resolved_at", "reason", "detail"]
        )
    return Replayed(letter, problem is None, outcome.accepted, outcome.duplicates)
