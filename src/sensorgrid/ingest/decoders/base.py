"""The decoder registry. A decoder is a small class in its own module.

To add one: subclass ``Decoder`` (``JsonDecoder`` for JSON payloads), set ``key``,
implement ``decode`` (or ``message``) as a pure function of the envelope, declare
its ``source``, built-in ``routes`` and ``webhook_events`` if it has any, and import
the module in ``decoders/__init__.py``. Nothing else names decoders.
"""

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from sensorgrid import storable
from sensorgrid.ingest.envelope import Decoded, DecodeError, Envelope, Message, Raw, Refusal
from sensorgrid.registry import Registry

if TYPE_CHECKING:
    from sensorgrid.ingest.steps.work import Batch

REGISTRY: Registry["Decoder"] = Registry("decoder")


class Decoder:
    key: ClassVar[str]
    description: ClassVar[str] = ""
    #: The source of its envelopes ("lorawan" for network servers); None: the transport's
    #: ("mqtt" or "http").
    source: ClassVar[str | None] = None
    #: MQTT topic patterns every ingester routes to it unless settings replace them.
    routes: ClassVar[tuple[str, ...]] = ()
    #: Events besides ``up`` its webhook names in ``?event=``: any event but ``up`` is
    #: answered 204 without storing anything. Empty: the parameter is ignored.
    webhook_events: ClassVar[tuple[str, ...]] = ()
    #: What its payloads are: "json" (JSON, a list or NDJSON; ``/api/v1/ingest/<key>/``
    #: serves it) or another name (e.g. "line-protocol", served by its own endpoint).
    content: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:  # a base without a key (JsonDecoder) is not registered
            REGISTRY.add(cls.key, cls())

    def decode(self, envelope: Envelope) -> Decoded:
        """Turn the payload into messages; raise DecodeError if none can be read."""
        raise NotImplementedError

    def storable(self, envelope: Envelope) -> bool:
        """True if no message ``decode`` makes of this envelope can hold an id or key
        that no database stores (NUL, lone surrogate), judged from the whole payload at
        once. False (the default) has each message checked (``validate.unstorable``),
        which also catches a decoder's misshapen messages: only a decoder whose messages
        are always well formed may answer True."""
        return False

    def ingest_many(self, envelopes: Sequence[Envelope], keep_dead_letters: bool) -> "Batch | None":
        """Store a batch itself, for payloads that are not values (the images app's
        pictures): None (the default) runs the pipeline's steps on ``decode``'s messages."""
        return None


class Refused(ValueError):
    """A document refused for another reason than ``malformed``, or naming its device."""

    def __init__(self, reason: str, detail: str, device: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.device = device


class JsonDecoder(Decoder):
    """One message per JSON document (``parse_json_documents``); each is read alone.

    ``message`` raises ``Refused`` (a reason and device) or ``ValueError`` (malformed,
    with ``device_hint``'s device) to refuse one document; returns None to skip one
    that carries nothing to store.
    """

    content = "json"

    def decode(self, envelope: Envelope) -> Decoded:
        messages, refusals = [], []
        for index, (document, raw) in enumerate(parse_json_documents(envelope)):
            try:
                message = self.message(index, document, raw, envelope)
            except Refused as exc:
                refusals.append(Refusal(index, exc.reason, str(exc), raw, exc.device))
            except ValueError as exc:
                hint = self.device_hint(document)
                refusals.append(Refusal(index, "malformed", str(exc), raw, hint))
            else:
                if message is not None:
                    messages.append(message)
        return Decoded(tuple(messages), tuple(refusals))

    def message(self, index: int, document: object, raw: Raw, envelope: Envelope) -> Message | None:
        raise NotImplementedError

    def device_hint(self, document: object) -> str:
        """The device a malformed document seems to be from, for its dead letter."""
        return ""


def get(key: str) -> Decoder:
    return REGISTRY.get(key)


def available() -> list[str]:
    return REGISTRY.keys()


def source_of(key: str, transport: str) -> str:
    """The source of envelopes for decoder ``key`` received over ``transport``.

    An unknown key gets the transport's: the caller reports the key itself.
    """
    try:
        return REGISTRY.get(key).source or transport
    except KeyError:
        return transport


def registered() -> list[Decoder]:
    """Every decoder, in import order (the order of the built-in routes)."""
    return REGISTRY.items()


def parse_json_documents(envelope: Envelope) -> list[tuple[object, Raw]]:
    """The JSON documents of a payload: one document, a list of them, or NDJSON lines.

    Returns each document with its raw form (``envelope.Raw``), so a refused one is
    kept as it came.
    """
    if "ndjson" not in envelope.content_type:
        document = _fast(envelope.payload)
        error: ValueError | None = None
        if document is _NOT_ONE:
            text = _text(envelope.payload)
            try:
                document = json.loads(text)
            except (ValueError, RecursionError) as exc:
                document = _NOT_ONE
                error = exc if isinstance(exc, ValueError) else None
        if document is not _NOT_ONE:
            if isinstance(document, list):
                return [(item, item) for item in document]
            return [(document, envelope.payload)]
        if "\n" not in text.strip() or _inside_first(error):
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


def _inside_first(error: ValueError | None) -> bool:
    """Whether a failed parse broke inside a first document that spans several lines.

    NDJSON's first line is a whole document, so parsing the payload as one fails with
    "Extra data" after it, or on line 1 when that line itself is broken. A failure
    further down, inside the first document, is a pretty-printed document with a
    syntax error: its position is the parser's, not "line 1" of an NDJSON reading.
    """
    return (
        isinstance(error, json.JSONDecodeError) and error.msg != "Extra data" and error.lineno > 1
    )


def json_storable(envelope: Envelope) -> bool:
    """Whether every string parsed from this JSON payload, and the topic's device id, is
    storable (``Decoder.storable`` for decoders whose ids and keys are the JSON's strings).

    Both parsers refuse a raw control character inside a string and text that is not
    UTF-8, so a NUL or a lone surrogate can only come from a ``\\u0000`` or ``\\udXXX``
    escape. A payload holding one (or a valid surrogate pair, or an escaped backslash
    before ``u0000``) is checked message by message, which names the culprit.
    """
    return _UNSTORABLE_ESCAPE.search(envelope.payload) is None and (
        not envelope.device or storable.problem(envelope.device) is None
    )


_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])")


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
