"""Replaying dead letters through the pipeline once their cause is fixed."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sensorgrid.ingest import pipeline
from sensorgrid.ingest.envelope import Authority, Envelope
from sensorgrid.telemetry.models import Credential, DeadLetter, Reason

REPLAY_FIELDS = ("replay_count", "replayed_at", "resolved_at", "reason", "detail")


UNKNOWN_SENDER = (
    "refused before SensorGrid kept the sender's credential: it is not replayed, since "
    "the authority it was sent with is unknown"
)


def authority_of(letter: DeadLetter) -> Authority | None:
    """Exactly the authority the letter was sent with (issue 16: replay must not widen it).

    A node credential stays limited to its node, even if the node was deleted since
    (then nothing is stored). A letter without a recorded credential (an MQTT route
    bound to no organization) is bounded by the organization it was filed into.
    """
    if letter.organization_id is None:
        return None
    node_id = letter.credential_id if letter.credential == Credential.NODE else None
    return Authority(letter.organization_id, node_id, letter.credential, letter.credential_id)


def _sender_unknown(letter: DeadLetter) -> bool:
    # Before the credential was kept, a foreign device's refusal was filed into the
    # device's organization: replaying it with that organization's authority would
    # store another organization's payload in it.
    # HTTP letters only: over MQTT this refusal comes from the decoder (a payload naming
    # another device than its topic) and is refused again on replay anyway.
    http = letter.topic.startswith("/api/")
    return letter.reason == Reason.FORBIDDEN_DEVICE and not letter.credential and http


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
        authority=authority_of(letter),
    )
    with transaction.atomic():
        if _sender_unknown(letter):
            problem: pipeline.Rejection | None = pipeline.Rejection(
                0, letter.reason, UNKNOWN_SENDER
            )
            outcome = pipeline.Outcome(refused=problem)
        else:
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
