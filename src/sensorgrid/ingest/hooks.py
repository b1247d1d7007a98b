"""Work that follows a committed batch: live push, alerts, … (later issues register here).

A hook receives a ``Committed`` report after the transaction commits. A hook that
raises is logged and skipped; it never undoes or blocks the ingest.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sensorgrid.ingest.validate import Row

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Committed:
    rows: tuple[Row, ...]  # the rows of the batch (new and duplicate)
    newest: dict[int, datetime]  # node id → newest new sample
    dead_letters: int
    #: nodes whose last_seen the batch moved and that were not ALIVE then
    quiet: frozenset[int] = frozenset()


Hook = Callable[[Committed], None]
_hooks: list[Hook] = []


def register(hook: Hook) -> Hook:
    """Call ``hook`` after every committed batch. Usable as a decorator."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def unregister(hook: Hook) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def run(report: Committed) -> None:
    for hook in list(_hooks):
        try:
            hook(report)
        except Exception:  # isolation: one broken hook must not stop the others
            log.exception("ingest hook %r failed", hook)
