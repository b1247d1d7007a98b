"""The ingest pipeline, used by every entry point: an ordered list of small steps.

``ingest(envelope, decoder)`` runs one envelope, ``ingest_many`` a batch, through
``STEPS`` (``sensorgrid.ingest.steps``: decode → authorize → resolve → codec →
validate → store → after-commit), all writes in one transaction. It returns what
happened to each message, so an entry point can answer its client.

LoRaWAN uplinks (docs/lorawan.md) use three parts of it more: a device may be known by
several ids (``Message.also``), a binary frame without values is decoded with the
codec of the node's model, and the gateways' receptions are written with the samples.
"""

from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone

from sensorgrid.ingest import cache, decoders, filing
from sensorgrid.ingest.envelope import Envelope
from sensorgrid.ingest.steps import announce, decode, devices, store, values
from sensorgrid.ingest.steps.work import Batch, Item, Outcome, Pending, Rejection, Work
from sensorgrid.observability import metrics
from sensorgrid.telemetry.models import DeadLetter

__all__ = [
    "STEPS",
    "Batch",
    "Outcome",
    "Rejection",
    "decode_more",
    "decoding",
    "ingest",
    "ingest_decoded",
    "ingest_many",
    "keep",
]

Step = Callable[[Work], None]

#: The steps, in order (docs/architecture.md); each reads what the ones before it left.
STEPS: tuple[Step, ...] = (
    decode.decode,
    devices.authorize,
    devices.resolve,
    values.codec,
    values.validate,
    store.store,
    announce.after_commit,
)


def ingest(envelope: Envelope, decoder: str, keep_dead_letters: bool = True) -> Outcome:
    """Run one envelope through the pipeline (see the module docstring).

    ``keep_dead_letters=False`` is for replays: the caller updates the dead letter
    it replays instead of filing a new one.
    """
    return ingest_many([envelope], decoder, keep_dead_letters).outcomes[0]


def ingest_many(
    envelopes: Sequence[Envelope], decoder: str, keep_dead_letters: bool = True
) -> Batch:
    """Run several envelopes as one batch: one transaction, one write.

    Per envelope, ``accepted`` counts its valid values; how many of the batch's
    values were new or repeated is known for the batch as a whole.
    """
    own = decoders.get(decoder).ingest_many(envelopes, keep_dead_letters)
    if own is not None:  # a decoder of payloads that are not values (pictures)
        return own
    work = Work(
        decoder, [Item(envelope) for envelope in envelopes], timezone.now(), keep_dead_letters
    )
    return _run(work, STEPS)


def decoding(decoder: str) -> Work | None:
    """A batch to decode envelope by envelope (``decode_more``), whose other steps run
    later (``ingest_decoded``).

    Decoding reads nothing but the envelopes (no database, no cache), so ``sensorgrid
    ingest`` decodes the next batch in a thread of its own, as its messages arrive,
    while the one before commits. None for a decoder that stores its batches itself
    (pictures): those run in ``ingest_many``.
    """
    if type(decoders.get(decoder)).ingest_many is not decoders.Decoder.ingest_many:
        return None
    return Work(decoder, [], timezone.now())


def decode_more(work: Work, envelopes: Sequence[Envelope]) -> None:
    """Add envelopes to a ``decoding`` batch and decode them."""
    start = len(work.items)
    work.items.extend(Item(envelope) for envelope in envelopes)
    decode.decode(work, start)


def ingest_decoded(work: Work) -> Batch:
    """The steps after decoding, for a ``decoded`` batch (once: the steps change it)."""
    work.now = timezone.now()  # the time validation compares with is the write's
    assert STEPS[0] is decode.decode
    return _run(work, STEPS[1:])


def _run(work: Work, steps: Sequence[Step]) -> Batch:
    work.quantities = cache.directory.quantities()
    for step in steps:
        step(work)
    return _batch(work)


def keep(envelope: Envelope, decoder: str, reason: str, detail: str) -> DeadLetter:
    """Keep a whole envelope as a dead letter without decoding it."""
    [letter] = filing.file(
        [store.dead_letter(Pending(envelope, decoder, envelope.payload, reason, detail))]
    )
    transaction.on_commit(lambda: metrics.dead_lettered([(reason, envelope.source)]))
    return letter


def _batch(work: Work) -> Batch:
    """Hand dead-letter ids to their envelopes; a single envelope also gets the counts."""
    by_envelope: dict[int, list[int]] = {}
    for p, letter in zip(work.pending, work.letters, strict=True):
        by_envelope.setdefault(id(p.envelope), []).append(letter.pk)
    outcomes = [item.outcome for item in work.items]
    for item in work.items:
        item.outcome.dead_letter_ids = by_envelope.get(id(item.envelope), [])
    result = work.result
    if len(outcomes) == 1:
        outcomes[0].accepted = result.inserted
        outcomes[0].duplicates = result.duplicates
    return Batch(outcomes, result.inserted, result.duplicates)
