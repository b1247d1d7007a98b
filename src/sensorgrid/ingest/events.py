"""What the ingest pipeline announces after a batch commits (``sensorgrid.events``).

Its consumers are listed, in order and with their phase, in settings
``AFTER_COMMIT_CONSUMERS["sensorgrid.ingest.events.Committed"]``; ingest imports none
of them.
"""

from dataclasses import dataclass
from datetime import datetime

from sensorgrid.ingest.validate import Row


@dataclass(frozen=True, slots=True)
class Committed:
    """One committed batch."""

    rows: tuple[Row, ...]  # the rows of the batch (new and duplicate)
    newest: dict[int, datetime]  # node id → newest new sample
    dead_letters: int
    #: nodes whose last_seen the batch moved and that were not ALIVE then
    quiet: frozenset[int] = frozenset()
