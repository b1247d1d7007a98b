"""Registries of sources (where data comes from) and steps (what a run does with it).

To add a source: subclass ``Source`` in a module of ``pipelines/sources/``, set ``key``,
implement ``request`` and ``parse``, and import the module in ``sources/__init__.py``.
Steps work the same way under ``pipelines/steps/``.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sensorgrid.geo.pipelines.items import Context, Item, Skip

_SOURCES: dict[str, "Source"] = {}
_STEPS: dict[str, "Step"] = {}


@dataclass(frozen=True)
class Request:
    """The HTTP request that fetches a source."""

    url: str
    method: str = "GET"
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Source:
    key: ClassVar[str]
    description: ClassVar[str] = ""
    #: Options that must be present (checked when a pipeline is saved or loaded).
    required: ClassVar[tuple[str, ...]] = ("url",)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.key in _SOURCES:
            raise ValueError(f"two sources claim the key {cls.key!r}")
        _SOURCES[cls.key] = cls()

    def check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError with a message a user can act on if ``options`` cannot work."""
        if not isinstance(options, dict):
            raise ValueError("Options must be a JSON object.")
        missing = [name for name in self.required if not options.get(name)]
        if missing:
            raise ValueError(f"The {self.key} source needs the option(s): {', '.join(missing)}.")
        url = options.get("url")
        if url and not str(url).startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://.")
        if url:
            from sensorgrid.outbound import check_url

            try:
                check_url(str(url))  # a literal private address; names: at connect time
            except ValueError as exc:
                raise ValueError(f"url: {exc}") from None
        if "mapping" in options:
            from sensorgrid.geo.pipelines import mapping

            mapping.check(options["mapping"])

    def request(self, options: dict[str, Any]) -> Request:
        return Request(url=options["url"])

    def parse(self, payload: bytes, options: dict[str, Any]) -> Iterator[Item | Skip]:
        """Items of the fetched document; raise PipelineError if it is unusable as a whole."""
        raise NotImplementedError


class Step:
    key: ClassVar[str]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.key in _STEPS:
            raise ValueError(f"two steps claim the key {cls.key!r}")
        _STEPS[cls.key] = cls()

    def run(self, context: Context) -> None:
        raise NotImplementedError


def source(key: str) -> Source:
    try:
        return _SOURCES[key]
    except KeyError:
        raise KeyError(f"No source {key!r}; known: {', '.join(sorted(_SOURCES))}.") from None


def sources() -> list[str]:
    return sorted(_SOURCES)


def step(key: str) -> Step:
    try:
        return _STEPS[key]
    except KeyError:
        raise KeyError(f"No step {key!r}; known: {', '.join(sorted(_STEPS))}.") from None
