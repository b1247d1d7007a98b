"""Filing dead letters: identical refusals are counted on one open letter.

A sender that repeats a refused message (a device not registered yet, a flood of one
bad line: one 1 MiB request used to file ~25,000 letters) costs one row, whose
``count`` and ``last_received_at`` go up. Identical means the same organization,
credential, source, topic, decoder, reason, device, detail and payload bytes, while
the letter is unresolved. Different payloads stay separate letters: each can be
replayed once its cause is fixed.
"""

import hashlib
from collections.abc import Sequence

from django.db.models import F, Value
from django.db.models.functions import Greatest

from sensorgrid.telemetry.models import DeadLetter


def fingerprint(letter: DeadLetter) -> str:
    digest = hashlib.sha256()
    for part in (
        letter.organization_id,
        letter.credential,
        letter.credential_id,
        letter.source,
        letter.topic,
        letter.decoder,
        letter.reason,
        letter.device_id,
        letter.detail,
    ):
        text = "" if part is None else str(part)
        digest.update(f"{len(text)}:{text}".encode("utf-8", "surrogatepass"))
    digest.update(bytes(letter.payload))
    return digest.hexdigest()


def file(letters: Sequence[DeadLetter]) -> list[DeadLetter]:
    """Save ``letters`` (unsaved) and return the stored letter of each, in order.

    Call inside a transaction. Two processes filing the same new refusal at once may
    each create a row; the next ones are counted on one of them.
    """
    if not letters:
        return []
    first: dict[str, DeadLetter] = {}
    for letter in letters:
        letter.fingerprint = fingerprint(letter)
        letter.last_received_at = letter.received_at
        kept = first.setdefault(letter.fingerprint, letter)
        if kept is not letter:
            kept.count += 1
            kept.last_received_at = max(kept.last_received_at, letter.received_at)
    existing = {
        row.fingerprint: row
        for row in DeadLetter.objects.filter(
            fingerprint__in=list(first), resolved_at__isnull=True
        ).order_by("pk")
    }
    new = [letter for key, letter in first.items() if key not in existing]
    for key, row in existing.items():
        repeated = first[key]
        DeadLetter.objects.filter(pk=row.pk).update(
            count=F("count") + repeated.count,
            last_received_at=Greatest("last_received_at", Value(repeated.last_received_at)),
        )
        row.count += repeated.count
        row.last_received_at = max(row.last_received_at, repeated.last_received_at)
        first[key] = row
    DeadLetter.objects.bulk_create(new)
    return [first[letter.fingerprint] for letter in letters]
