"""Steps 4 and 5: the values of each resolved message, then rows or problems.

A message that yields no value and no refusal is a ``no-values`` dead letter (issue 18,
item 2): it is never counted as stored, so an owner sees frames their codec cannot read
(a Cayenne frame of types it does not know, an empty ``values`` object). One kind is
not: an uplink that carries neither values nor a frame but was heard by gateways (a
LoRaWAN MAC-only uplink): its receptions are what it brings, and they are stored.
"""

from sensorgrid.ingest import frames
from sensorgrid.ingest.envelope import Message
from sensorgrid.ingest.steps.work import Work
from sensorgrid.ingest.validate import Problem, rows_of
from sensorgrid.telemetry.models import Reason


def codec(work: Work) -> None:
    """A network server's decoded fields that name quantities, or the frame decoded by
    the codec of the node's model (``frames.with_values``)."""
    for candidate in work.candidates:
        if candidate.problems:
            continue
        assert candidate.node is not None  # resolve refused the messages without one
        candidate.message, candidate.problems = frames.with_values(
            candidate.message, candidate.device, candidate.node, work.quantities
        )


def validate(work: Work) -> None:
    """Rows for the plausible values, problems for the others (``validate.rows_of``)."""
    for candidate in work.candidates:
        if candidate.problems:
            continue
        assert candidate.node is not None
        message = candidate.message
        received_at = work.items[candidate.item].envelope.received_at
        rows, problems = rows_of(message, candidate.node.id, work.quantities, received_at, work.now)
        if rows:
            work.rows.extend(rows)
            candidate.accepted = len(rows)
        elif not problems and (message.frame is not None or not message.radio):
            problems = [Problem(Reason.NO_VALUES, _nothing(message))]
        candidate.problems = problems


def _nothing(message: Message) -> str:
    if message.frame is not None:
        port = "" if message.frame.port is None else f" on port {message.frame.port}"
        return (
            f"the frame{port} ({len(message.frame.data)} bytes) decoded to no value; "
            "nothing was stored"
        )
    return "the message carries no value; nothing was stored"
