"""The ingest pipeline, used by every entry point.

``ingest(envelope, decoder)`` decodes, resolves devices, validates, writes and
records dead letters in one transaction, then runs the hooks after commit. It
returns what happened to each message, so an entry point can answer its client.

LoRaWAN uplinks (docs/lorawan.md) add three steps: a device may be known by several
ids (``Message.also``), a binary frame without values is decoded with the codec of
the node's model, and the gateways' receptions are written with the samples.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from sensorgrid import storable
from sensorgrid.ingest import cache, decoders, filing, frames, hooks, writer
from sensorgrid.ingest.envelope import (
    Authority,
    DecodeError,
    Envelope,
    Message,
    Refusal,
    raw_bytes,
)
from sensorgrid.ingest.validate import Problem, Row, rows_of, timestamp_problem, unstorable
from sensorgrid.inventory.models import Node, NodeStatus
from sensorgrid.observability import metrics
from sensorgrid.telemetry.models import DeadLetter, Reason

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    reason: str
    detail: str


@dataclass
class Outcome:
    """What became of one envelope."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: the whole payload was refused (unparsable, or a device the sender may not write)
    refused: Rejection | None = None
    dead_letter_ids: list[int] = field(default_factory=list)


@dataclass
class _Pending:
    """A dead letter to write, with where it came from."""

    envelope: Envelope
    decoder: str
    payload: bytes
    reason: str
    detail: str
    device_id: str = ""
    node: cache.NodeRef | None = None


def ingest(envelope: Envelope, decoder: str, keep_dead_letters: bool = True) -> Outcome:
    """Run one envelope through the pipeline (see the module docstring).

    ``keep_dead_letters=False`` is for replays: the caller updates the dead letter
    it replays instead of filing a new one.
    """
    return ingest_many([envelope], decoder, keep_dead_letters).outcomes[0]


@dataclass(frozen=True, slots=True)
class Batch:
    outcomes: list[Outcome]
    inserted: int
    duplicates: int


def ingest_many(
    envelopes: Sequence[Envelope], decoder: str, keep_dead_letters: bool = True
) -> Batch:
    """Run several envelopes as one batch: one transaction, one write.

    Per envelope, ``accepted`` counts its valid values; how many of the batch's
    values were new or repeated is known for the batch as a whole.
    """
    now = timezone.now()
    quantities = cache.directory.quantities()
    outcomes, pending, rows = [], [], []
    receptions: list[writer.ReceptionRow] = []
    plans = [_decode(envelope, decoder) for envelope in envelopes]
    devices = {d for _, messages, _ in plans for m in messages for d in (m.device, *m.also)}
    nodes = cache.directory.nodes(devices) if devices else {}
    for envelope, (refused, messages, refusals) in zip(envelopes, plans, strict=True):
        outcome = Outcome()
        outcomes.append(outcome)
        refused = refused or _foreign(messages, nodes, envelope.authority)
        if refused is not None:
            outcome.refused = refused
            pending.append(
                _Pending(envelope, decoder, envelope.payload, refused.reason, refused.detail)
            )
            continue
        for refusal in refusals:
            outcome.rejected.append(Rejection(refusal.index, refusal.reason, refusal.detail))
            pending.append(
                _Pending(
                    envelope,
                    decoder,
                    raw_bytes(refusal.raw),
                    refusal.reason,
                    refusal.detail,
                    refusal.device,
                    _node_of(refusal.device, nodes, envelope.authority)[0],
                )
            )
        for message in messages:
            device, node, missing = _resolve(message, nodes, envelope.authority)
            good: list[Row] = []
            if node is None:
                assert missing is not None  # _resolve names the problem when no node fits
                problems = [missing]
            else:
                # The gateways heard the node even when its values are refused.
                receptions.extend(_receptions(message, node, envelope.received_at, now))
                message, problems = frames.with_values(message, device, node, quantities)
                if not problems:
                    good, problems = rows_of(
                        message, node.id, quantities, envelope.received_at, now
                    )
            rows.extend(good)
            outcome.accepted += len(good)
            if problems:
                detail = "; ".join(p.detail for p in problems)
                outcome.rejected.append(Rejection(message.index, problems[0].reason, detail))
                pending.append(
                    _Pending(
                        envelope,
                        decoder,
                        raw_bytes(message.raw),
                        problems[0].reason,
                        detail,
                        device,
                        node,
                    )
                )
    with transaction.atomic():
        result = writer.write(rows)
        writer.write_receptions(receptions)
        if not keep_dead_letters:
            pending = []
        letters = filing.file([_dead_letter(p) for p in pending])
        quiet = _touch(envelopes, {row.node_id for row in rows} | {r.node_id for r in receptions})
        report = hooks.Committed(tuple(rows), result.newest, len(letters), quiet)
        transaction.on_commit(lambda: hooks.run(report))
        # Counted once committed: an enclosing transaction may still roll back and retry.
        counted = [(p.reason, p.envelope.source) for p in pending]
        transaction.on_commit(lambda: metrics.dead_lettered(counted))
        transaction.on_commit(
            lambda: metrics.ingested(envelopes, result.inserted, result.duplicates)
        )
    _attribute(outcomes, result, envelopes, letters, pending)
    return Batch(outcomes, result.inserted, result.duplicates)


def keep(envelope: Envelope, decoder: str, reason: str, detail: str) -> DeadLetter:
    """Keep a whole envelope as a dead letter without decoding it."""
    [letter] = filing.file(
        [_dead_letter(_Pending(envelope, decoder, envelope.payload, reason, detail))]
    )
    transaction.on_commit(lambda: metrics.dead_lettered([(reason, envelope.source)]))
    return letter


def _decode(
    envelope: Envelope, key: str
) -> tuple[Rejection | None, Sequence[Message], Sequence[Refusal]]:
    """(refused, messages, refusals) for one envelope; never raises."""
    try:
        decoded = decoders.get(key).decode(envelope)
    except DecodeError as exc:
        return Rejection(0, exc.reason, exc.detail), (), ()
    except Exception as exc:  # a decoder bug costs this payload, not the process
        log.exception("decoder %s failed on a payload from %s", key, envelope.topic)
        return Rejection(0, Reason.DECODER_ERROR, f"{type(exc).__name__}: {exc}"), (), ()
    # A message with an id no database can store (NUL…) is refused here, alone: it
    # must reach neither the node lookup nor the writer, where it would fail the batch.
    messages: list[Message] = []
    refusals = list(decoded.refusals)
    for message in decoded.messages:
        problem = unstorable(message)
        if problem is None:
            messages.append(message)
        else:
            refusals.append(
                Refusal(message.index, problem.reason, problem.detail, message.raw, message.device)
            )
    return None, messages, refusals


def _resolve(
    message: Message, nodes: dict[str, tuple[cache.NodeRef, ...]], authority: Authority | None
) -> tuple[str, cache.NodeRef | None, Problem | None]:
    """The device id that names a node and the node (``device`` first, then ``also``),
    or the problem: no such node, or several (see ``_node_of``)."""
    for device in (message.device, *message.also):
        node, problem = _node_of(device, nodes, authority)
        if node is not None or problem is not None:
            return device, node, problem
    return message.device, None, Problem(Reason.UNKNOWN_DEVICE, _unknown(message))


def _node_of(
    device: str, nodes: dict[str, tuple[cache.NodeRef, ...]], authority: Authority | None
) -> tuple[cache.NodeRef | None, Problem | None]:
    """The node ``device`` names for this sender: only its organization's nodes count.

    Another organization's device ids must neither capture nor block the sender's
    messages (issue 16). Without a credential (an MQTT route bound to no
    organization) an id that names nodes of several organizations is refused
    rather than guessed.
    """
    candidates = nodes.get(device, ())
    if authority is not None:
        candidates = tuple(n for n in candidates if n.organization_id == authority.organization_id)
    if len(candidates) > 1:
        return None, Problem(
            Reason.AMBIGUOUS_DEVICE,
            f"device id {device!r} names nodes of {len(candidates)} organizations; "
            "bind this MQTT route to an organization (docs/lorawan.md)",
        )
    return (candidates[0] if candidates else None), None


def _unknown(message: Message) -> str:
    tried = [repr(device) for device in (message.device, *message.also)]
    if len(tried) == 1:
        return f"no node has device id {tried[0]}"
    return f"no node has device id {', '.join(tried[:-1])} or {tried[-1]}"


def _receptions(
    message: Message, node: cache.NodeRef, received_at: datetime, now: datetime
) -> list[writer.ReceptionRow]:
    """The gateways' receptions of a message, unless its time is refused."""
    receptions = []
    for radio in message.radio:
        ts = radio.ts or message.ts or received_at
        if timestamp_problem(ts, now) is None:
            receptions.append(writer.ReceptionRow(node.id, ts, radio))
    return receptions


def _foreign(
    messages: Sequence[Message],
    nodes: dict[str, tuple[cache.NodeRef, ...]],
    authority: Authority | None,
) -> Rejection | None:
    """A node credential writes only for its node: the first other device, as a refusal.

    An organization credential has no such refusal: devices are looked up within its
    organization, so another organization's device is simply unknown to it.
    """
    if authority is None or authority.node_id is None:
        return None
    for message in messages:
        device, node, _ = _resolve(message, nodes, authority)
        if node is None or node.id != authority.node_id:
            return Rejection(
                message.index,
                Reason.FORBIDDEN_DEVICE,
                f"this credential may not write for device {device!r}",
            )
    return None


def _dead_letter(p: _Pending) -> DeadLetter:
    # A refusal belongs to the sender's organization, never to the one its payload names.
    authority = p.envelope.authority
    organization_id: int | None
    if authority is not None:
        organization_id = authority.organization_id
    else:
        organization_id = p.node.organization_id if p.node else None
    return DeadLetter(
        received_at=p.envelope.received_at,
        source=p.envelope.source,
        # Text columns get escapes for what no database stores (NUL…): a refusal of
        # poisoned input must itself be storable. The payload column is binary.
        topic=storable.escaped(p.envelope.topic)[:500],
        decoder=p.decoder,
        content_type=storable.escaped(p.envelope.content_type)[:100],
        payload=p.payload,
        reason=p.reason,
        detail=storable.escaped(p.detail),
        device_id=storable.escaped(p.device_id)[:200],
        organization_id=organization_id,
        node_id=p.node.id if p.node else None,
        credential=authority.credential if authority else "",
        credential_id=authority.credential_id if authority else None,
    )


def _touch(envelopes: Sequence[Envelope], node_ids: set[int]) -> frozenset[int]:
    """Move last_seen forward for the nodes that sent storable values or were heard.

    Only those: a refused payload naming a node must not make it look alive (a
    LoRaWAN uplink whose values are refused was still heard by the gateways).
    Returns the moved nodes that are not ALIVE, for the health hook: the same
    statement tells, so reviving costs no query of its own (usually none is quiet).
    """
    if not node_ids:
        return frozenset()
    heard = max(e.received_at for e in envelopes)
    meta = Node._meta
    quote = connection.ops.quote_name
    table, pk, last_seen, status = (
        quote(meta.db_table),
        quote(meta.pk.column),
        quote(meta.get_field("last_seen").column),
        quote(meta.get_field("status").column),
    )
    at = meta.get_field("last_seen").get_db_prep_value(heard, connection)
    ids = sorted(node_ids)  # one lock order for every batch: no deadlock between two
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last_seen} = %s "
            f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))}) "
            f"AND ({last_seen} < %s OR {last_seen} IS NULL) RETURNING {pk}, {status}",
            [at, *ids, at],
        )
        return frozenset(node for node, state in cursor.fetchall() if state != NodeStatus.ALIVE)


def _attribute(
    outcomes: Sequence[Outcome],
    result: writer.WriteResult,
    envelopes: Sequence[Envelope],
    letters: Sequence[DeadLetter],
    pending: Sequence[_Pending],
) -> None:
    """Hand dead-letter ids to their envelopes; a single envelope also gets the counts."""
    by_envelope: dict[int, list[int]] = {}
    for p, letter in zip(pending, letters, strict=True):
        by_envelope.setdefault(id(p.envelope), []).append(letter.pk)
    for envelope, outcome in zip(envelopes, outcomes, strict=True):
        outcome.dead_letter_ids = by_envelope.get(id(envelope), [])
    if len(outcomes) == 1:
        outcomes[0].accepted = result.inserted
        outcomes[0].duplicates = result.duplicates
