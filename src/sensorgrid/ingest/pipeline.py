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

from sensorgrid.ingest import cache, decoders, filing, writer
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
    "prepare",
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
#: Where the writing starts: the steps before it read (through ``cache``) and never
#: write, so they may run outside the batch's transaction (``prepare``).
WRITING = STEPS.index(store.store)


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
    work = Work(decoder, [Item(e) for e in envelopes], timezone.now(), keep_dead_letters)
    return _batch(_run(work, STEPS))


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


def prepare(work: Work) -> None:
    """The steps after decoding that only read, for a ``decoding`` batch: its devices
    checked, its values validated, its rows rendered for the write.

    ``sensorgrid ingest`` runs them in the thread that decoded the batch, while the batch
    before commits: they read nodes and quantities through ``cache`` (a miss is one
    query on that thread's connection), and what they read may change before the write
    as it may in another ingest process. ``ingest_decoded`` then runs only the writing.
    """
    assert STEPS[0] is decode.decode and not work.prepared
    _run(work, STEPS[1:WRITING])
    work.rendered = writer.prerender(work.rows)
    work.prepared = True


def ingest_decoded(work: Work) -> Batch:
    """The steps after decoding (or after ``prepare``) for a ``decoding`` batch, once:
    the steps change it."""
    if not work.prepared:
        _run(work, STEPS[1:WRITING])
    for step in STEPS[WRITING:]:
        step(work)
    return _batch(work)


def _run(work: Work, steps: Sequence[Step]) -> Work:
    work.now = timezone.now()  # the time validation compares with: the batch's own
    work.quantities = cache.directory.quantities()
    for step in steps:
        step(work)
    return work


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
