"""The decoder registry. A decoder is a small class in its own module.

To add one: subclass ``Decoder``, set ``key``, implement ``decode`` as a pure
function of the envelope, and import the module in ``decoders/__init__.py``.
"""

import json
import re
import unicodedata
from typing import Any, ClassVar

import orjson

from sensorgrid.ingest.envelope import Decoded, DecodeError, Envelope, Raw

_REGISTRY: dict[str, "Decoder"] = {}


class Decoder:
    key: ClassVar[str]
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.key in _REGISTRY:
            raise ValueError(f"two decoders claim the key {cls.key!r}")
        _REGISTRY[cls.key] = cls()

    def decode(self, envelope: Envelope) -> Decoded:
        """Turn the payload into messages; raise DecodeError if none can be read."""
        raise NotImplementedError


def get(key: str) -> Decoder:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"no decoder {key!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def available() -> list[str]:
    return sorted(_REGISTRY)


def parse_json_documents(envelope: Envelope) -> list[tuple[object, Raw]]:
    """The JSON documents of a payload: one document, a list of them, or NDJSON lines.

    Returns each document with its raw form (``envelope.Raw``), so a refused one is
    kept as it came.
    """
    if "ndjson" not in envelope.content_type:
        document = _fast(envelope.payload)
        if document is _NOT_ONE:
            text = _text(envelope.payload)
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):
                document = _NOT_ONE
        if document is not _NOT_ONE:
            if isinstance(document, list):
                return [(item, item) for item in document]
            return [(document, envelope.payload)]
        if "\n" not in text.strip():
            _load(text)  # raises DecodeError with the parser's message
    else:
        text = _text(envelope.payload)
    # Several documents, one per line (NDJSON).
    documents: list[tuple[object, Raw]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            documents.append((_load(line, f"line {number}: "), line.encode()))
    if not documents:
        raise DecodeError("malformed", "the payload is empty")
    return documents


_NOT_ONE = object()


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("malformed", f"payload is not UTF-8 text: {exc}") from None


def _fast(payload: bytes) -> object:
    """orjson's parse (several times faster), or ``_NOT_ONE`` where it refuses.

    It refuses what the standard parser accepts too (NaN, integers beyond 64 bits,
    lone surrogates), so a refusal is parsed again by ``json``: what is accepted,
    and the error message of what is not, stay the standard parser's.
    """
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _NOT_ONE


def _load(text: str, where: str = "") -> object:
    document = _fast(text.encode())
    if document is not _NOT_ONE:
        return document
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise DecodeError("malformed", f"{where}invalid JSON: {exc}") from None
    except RecursionError:
        raise DecodeError("malformed", f"{where}JSON nested too deeply") from None


def normalized_name(name: str) -> str:
    """A field name as a quantity key would be written: ``engineTemp`` → ``engine_temp``.

    camelCase is split, accents are dropped, letters are lowercased, and every run of
    other characters becomes one ``_``. Never empty; at most 100 characters.
    """
    name = _CAMEL.sub("_", name)
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub("_", name.lower()).strip("_")[:100] or "unnamed"


# engineTemp, GPSSpeed, engineRPM; but not pH or SoC
_CAMEL = re.compile(
    r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z]{2,}(?![a-z]))"
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
