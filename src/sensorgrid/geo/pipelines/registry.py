"""Registries of sources (where data comes from) and steps (what a run does with it).

To add a source: subclass ``Source`` in a module of ``pipelines/sources/``, set ``key``,
declare its ``own_options``, implement ``request`` (or ``fetch``, for a source that needs
several requests) and ``parse``, and import the module in ``sources/__init__.py``.
Steps work the same way under ``pipelines/steps/``. Subclassing registers the class.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sensorgrid.geo.pipelines import bundled
from sensorgrid.geo.pipelines import options as option_schemas
from sensorgrid.geo.pipelines.items import Context, Document, Item, Notice, Skip
from sensorgrid.registry import Registry

SOURCES: "Registry[Source]" = Registry("source")
STEPS: "Registry[Step]" = Registry("step")


@dataclass(frozen=True)
class Request:
    """The HTTP request that fetches a source."""

    url: str
    method: str = "GET"
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


#: download(request) -> (body, content type); PipelineError for anything but a 2xx.
Download = Callable[[Request], tuple[bytes, str]]


class Source:
    key: ClassVar[str]
    description: ClassVar[str] = ""
    #: Options that must be present (checked when a pipeline is saved or loaded).
    required: ClassVar[tuple[str, ...]] = ("url",)
    #: JSON Schemas of the options this source reads besides ``options.COMMON``.
    own_options: ClassVar[dict[str, dict[str, Any]]] = {}
    #: Whether ``srs`` and ``axis_order`` apply (the source has coordinate pairs).
    coordinates: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        SOURCES.add(cls.key, cls())

    @classmethod
    def schema(cls) -> dict[str, Any]:
        return option_schemas.schema(cls.own_options, cls.coordinates)

    def check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError with a message a user can act on if ``options`` cannot work."""
        if not isinstance(options, dict):
            raise ValueError("Options must be a JSON object.")
        problems = option_schemas.problems(self.schema(), options)
        if problems:
            raise ValueError(f"The {self.key} source: " + "; ".join(problems) + ".")
        missing = [name for name in self.required if not options.get(name)]
        if missing:
            raise ValueError(f"The {self.key} source needs the option(s): {', '.join(missing)}.")
        url = options.get("url")
        if bundled.is_bundled(url):  # a file shipped in the package, nothing else
            try:
                bundled.resolve(str(url))
            except ValueError as exc:
                raise ValueError(f"url: {exc}.") from None
        elif url and not str(url).startswith(("http://", "https://")):
            raise ValueError(
                "url must start with http:// or https:// (or name a file shipped with "
                "SensorGrid: bundled:<path>)."
            )
        elif url:
            from sensorgrid.outbound import check_url

            try:
                check_url(str(url))  # a literal private address; names: at connect time
            except ValueError as exc:
                raise ValueError(f"url: {exc}") from None
        if "mapping" in options:
            from sensorgrid.geo.pipelines import mapping

            mapping.check(options["mapping"])
        if options.get("srs"):
            from sensorgrid.geo.pipelines import crs
            from sensorgrid.geo.pipelines.extras import MissingExtra

            try:
                crs.check(options["srs"])
            except (ValueError, MissingExtra) as exc:
                raise ValueError(f"srs: {exc}") from None

    def request(self, options: dict[str, Any]) -> Request:
        return Request(url=options["url"])

    def fetch(self, options: dict[str, Any], download: Download) -> Iterator[Document]:
        """The documents of a run: one GET of ``request`` unless a source needs more."""
        payload, content_type = download(self.request(options))
        yield Document(payload, content_type)

    def parse(self, payload: bytes, options: dict[str, Any]) -> Iterator[Item | Skip | Notice]:
        """Items of the fetched document (Skip: a record that cannot be used; Notice: a
        warning about one that is used); raise PipelineError if it is unusable as a whole."""
        raise NotImplementedError


class Step:
    key: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        STEPS.add(cls.key, cls())

    def run(self, context: Context) -> None:
        raise NotImplementedError


def step(key: str) -> Step:
    """The step ``key`` (the ``steps`` package registers the built-in ones)."""
    return STEPS.get(key)
