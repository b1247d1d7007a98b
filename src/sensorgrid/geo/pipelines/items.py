"""What flows between the steps of a pipeline: items, skips and the run's context."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class PipelineError(Exception):
    """A run cannot go on; the message says what to fix. The layer is left untouched."""


class Unusable(PipelineError):
    """Every record was skipped: a changed format or a wrong mapping, not an outage that
    passes, so the owners are mailed at the first such failure, not the second."""


@dataclass(slots=True)
class Item:
    """One record from a source, before (geometry may be None) or after mapping."""

    ref: str  # where it came from, for messages: "line 7", "node/123", "feature 4"
    properties: dict[str, Any]
    geometry: dict | None = None
    external_id: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    #: The coordinate system ``geometry`` is in, as the document declares it (GeoJSON
    #: ``crs``, GML ``srsName``); None: the option ``srs``, else WGS 84.
    crs: str | None = None
    #: The source put the coordinates in x/y order already (GML): ``axis_order`` applied.
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class Skip:
    """A record that cannot be used, with the reason; reported in the run's log."""

    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A record that is used but looks wrong (a point outside the declared area): a
    warning line in the run's log, so the owner sees it without losing the record."""

    ref: str
    message: str


@dataclass(frozen=True, slots=True)
class Feature:
    """A mapped, valid feature, ready to load."""

    external_id: str
    geometry: dict
    properties: dict[str, Any]
    bbox: tuple[float, float, float, float]
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """One fetched document and what the fetch learned that its parser needs."""

    payload: bytes
    content_type: str = ""
    #: Merged into the options the parser sees (a WFS: the version and CRS it asked for).
    hints: Mapping[str, Any] = field(default_factory=dict)


#: progress(step, completed, total): total None when unknown.
Progress = Callable[[str, int, int | None], None]


def no_progress(step: str, completed: int, total: int | None) -> None:
    pass


@dataclass
class Context:
    """The state of one run, handed from step to step."""

    pipeline: Any  # geo.models.Pipeline
    options: dict[str, Any]
    progress: Progress = no_progress
    documents: list[Document] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def skip(self, ref: str, reason: str) -> None:
        self.skips.append(Skip(ref, reason))

    def note(self, line: str) -> None:
        self.log.append(line)
