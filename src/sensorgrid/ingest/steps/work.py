"""What the steps of one batch share: the envelopes, their messages, what was found."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sensorgrid.ingest.cache import NodeRef, QuantityRef
from sensorgrid.ingest.envelope import Envelope, Message, Refusal
from sensorgrid.ingest.validate import Problem, Row
from sensorgrid.ingest.writer import ReceptionRow, WriteResult
from sensorgrid.telemetry.models import DeadLetter


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


@dataclass(frozen=True, slots=True)
class Batch:
    outcomes: list[Outcome]
    inserted: int
    duplicates: int


@dataclass(slots=True)
class Item:
    """One envelope: refused whole, or its decoder's refusals (and its messages)."""

    envelope: Envelope
    outcome: Outcome = field(default_factory=Outcome)
    refused: Rejection | None = None
    refusals: list[Refusal] = field(default_factory=list)


@dataclass(slots=True)
class Candidate:
    """One message on its way to rows, with what the steps found about it.

    Not frozen: three steps fill it in, for every message of a batch, and copying it
    each time (``dataclasses.replace``) cost a quarter of the pipeline's CPU (measured).
    """

    item: int  # its envelope's position in the batch
    message: Message
    device: str = ""  # the id that named its node (resolve)
    node: NodeRef | None = None
    accepted: int = 0  # its rows among the batch's (validate)
    #: why (part of) it is refused; a later step leaves such a message alone
    problems: Sequence[Problem] = ()


@dataclass(frozen=True, slots=True)
class Pending:
    """A dead letter to write, with where it came from."""

    envelope: Envelope
    decoder: str
    payload: bytes
    reason: str
    detail: str
    device_id: str = ""
    node: NodeRef | None = None


@dataclass(slots=True)
class Work:
    """One batch between the steps: the steps fill it in ``pipeline.STEPS`` order."""

    decoder: str
    items: list[Item]
    now: datetime
    #: False for replays: the caller updates the dead letter it replays instead
    keep_dead_letters: bool = True
    candidates: list[Candidate] = field(default_factory=list)
    quantities: dict[str, QuantityRef] = field(default_factory=dict)
    nodes: dict[str, tuple[NodeRef, ...]] = field(default_factory=dict)
    receptions: list[ReceptionRow] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # validate's, in payload order
    #: the steps before the write ran ahead (``pipeline.prepare``), with the rows
    #: rendered for the writer (``writer.prerender``)
    prepared: bool = False
    rendered: str | None = None
    # store's
    pending: list[Pending] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    result: WriteResult = field(default_factory=lambda: WriteResult(0, 0, {}))
    quiet: frozenset[int] = frozenset()

    @property
    def envelopes(self) -> Sequence[Envelope]:
        return [item.envelope for item in self.items]
