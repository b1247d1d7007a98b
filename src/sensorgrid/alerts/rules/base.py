"""What every rule kind shares: per-series memory, verdicts, the pending/hysteresis machine.

Rule kinds are pure: they take the memory of one series and one sample and return the
new memory and what to do (open, resolve or nothing). No database, no clock; the
evaluator (``alerts.evaluate``) loads and saves the memory and passes ``now``.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from sensorgrid.registry import Registry

#: every rule kind by key; a subclass of ``Kind`` with a ``key`` registers itself
REGISTRY: Registry["Kind"] = Registry("rule kind")


class ParamError(ValueError):
    """Parameters a rule kind cannot work with; ``errors`` maps a parameter to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Judgement(Enum):
    BREACH = "breach"  # the condition holds
    CLEAR = "clear"  # the condition is over (past the hysteresis band)
    HOLD = "hold"  # neither: keep an open alert open, restart a pending one


class Action(Enum):
    OPEN = "open"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Memory:
    """What a rule remembers of one series (an ``AlertState`` row)."""

    last_ts: datetime | None = None
    last_value: float | None = None
    pending_since: datetime | None = None
    is_open: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    memory: Memory
    action: Action | None = None
    started_at: datetime | None = None  # with OPEN: when the condition began
    detail: str = ""


class Kind:
    """A rule kind. Sample-driven kinds implement ``judge``; the others override ``step``."""

    key: ClassVar[str]
    #: evaluated on each committed sample of the rule's quantity
    sample_driven: ClassVar[bool] = True
    needs_quantity: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:  # as with decoders: a shared base without a key is not a kind
            REGISTRY.add(cls.key, cls())

    def validate(self, params: dict) -> dict:
        """The normalised parameters, or ``ParamError``."""
        raise NotImplementedError

    def judge(
        self, params: dict, memory: Memory, ts: datetime, value: float
    ) -> tuple[Judgement, dict[str, Any], str]:
        """(judgement, new ``extra`` memory, detail for the message) of one new sample."""
        raise NotImplementedError

    def step(self, params: dict, memory: Memory, ts: datetime, value: float) -> Verdict:
        """Apply one sample. Samples not newer than the last one are ignored (late, repeated)."""
        if memory.last_ts is not None and ts <= memory.last_ts:
            return Verdict(memory)
        judgement, extra, detail = self.judge(params, memory, ts, value)
        pending, action, started = memory.pending_since, None, None
        is_open = memory.is_open
        if not is_open:
            if judgement is Judgement.BREACH:
                pending = pending or ts
                if (ts - pending).total_seconds() >= params.get("for_seconds", 0):
                    action, started, is_open = Action.OPEN, pending, True
            else:
                pending = None  # the condition must hold without a break
        elif judgement is Judgement.CLEAR:
            action, pending, is_open = Action.RESOLVE, None, False
        new = replace(
            memory,
            last_ts=ts,
            last_value=value,
            pending_since=pending,
            is_open=is_open,
            extra=extra,
        )
        return Verdict(new, action, started, detail)


def number(params: dict, name: str, errors: dict, default=None, minimum=None, required=False):
    value = params.get(name, default)
    if value is None:
        if required:
            errors[name] = "This parameter is required."
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        errors[name] = f"Must be a number, not {value!r}."
        return None
    if value in (float("inf"), float("-inf")):
        errors[name] = "Must be a finite number."
        return None
    if minimum is not None and value < minimum:
        errors[name] = f"Must be at least {minimum}."
        return None
    return value


def no_unknown(params: dict, known: set[str], errors: dict) -> None:
    for name in sorted(set(params) - known):
        errors[name] = f"Unknown parameter; this kind takes {', '.join(sorted(known))}."
