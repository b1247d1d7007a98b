"""Step 6: one transaction writes the batch's samples, receptions and dead letters,
moves its nodes' last_seen and announces ``Committed`` to the consumers."""

from collections.abc import Iterator

from django.db import connection, transaction

from sensorgrid import events, storable
from sensorgrid.ingest import filing, writer
from sensorgrid.ingest.envelope import raw_bytes
from sensorgrid.ingest.events import Committed
from sensorgrid.ingest.steps.devices import node_of
from sensorgrid.ingest.steps.work import Candidate, Pending, Rejection, Work
from sensorgrid.inventory.models import Node, NodeStatus
from sensorgrid.telemetry.models import DeadLetter


def store(work: Work) -> None:
    """Write everything in one transaction (the caller's, if it has one open)."""
    pending = list(_refusals(work))
    work.pending = pending if work.keep_dead_letters else []
    with transaction.atomic():
        work.result = writer.write(work.rows, work.rendered)
        writer.write_receptions(work.receptions)
        work.letters = filing.file([dead_letter(p) for p in work.pending])
        heard = {row.node_id for row in work.rows} | {r.node_id for r in work.receptions}
        work.quiet = _touch(work, heard)
        # Last: an in-transaction consumer's row lock (sensorgrid.events) lasts till COMMIT.
        events.announce(
            Committed(tuple(work.rows), work.result.newest, len(work.letters), work.quiet)
        )


def _refusals(work: Work) -> Iterator[Pending]:
    """Every refusal as the answer's ``Rejection`` and a dead letter to write, in payload
    order: the whole envelope, else its decoder's refusals, then its messages'."""
    by_item: dict[int, list[Candidate]] = {}
    for candidate in work.candidates:
        by_item.setdefault(candidate.item, []).append(candidate)
    for position, item in enumerate(work.items):
        envelope, outcome = item.envelope, item.outcome
        if item.refused is not None:
            outcome.refused = item.refused
            yield Pending(
                envelope, work.decoder, envelope.payload, item.refused.reason, item.refused.detail
            )
            continue
        for refusal in item.refusals:
            outcome.rejected.append(Rejection(refusal.index, refusal.reason, refusal.detail))
            node, _ = node_of(refusal.device, work.nodes, envelope.authority, envelope.device)
            yield Pending(
                envelope,
                work.decoder,
                raw_bytes(refusal.raw),
                refusal.reason,
                refusal.detail,
                refusal.device,
                node,
            )
        for candidate in by_item.get(position, ()):
            outcome.accepted += candidate.accepted
            if not candidate.problems:
                continue
            problems = candidate.problems
            detail = "; ".join(p.detail for p in problems)
            outcome.rejected.append(Rejection(candidate.message.index, problems[0].reason, detail))
            yield Pending(
                envelope,
                work.decoder,
                raw_bytes(candidate.message.raw),
                problems[0].reason,
                detail,
                candidate.device,
                candidate.node,
            )


def dead_letter(p: Pending) -> DeadLetter:
    """The ``DeadLetter`` row of a refusal (not saved)."""
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


def _touch(work: Work, node_ids: set[int]) -> frozenset[int]:
    """Move last_seen forward for the nodes that sent storable values or were heard.

    Only those: a refused payload naming a node must not make it look alive (a
    LoRaWAN uplink whose values are refused was still heard by the gateways).
    Returns the moved nodes that are not ALIVE, for fidelity's revive: the same
    statement tells, so reviving costs no query of its own (usually none is quiet).
    """
    if not node_ids:
        return frozenset()
    heard = max(item.envelope.received_at for item in work.items)
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
