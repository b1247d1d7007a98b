"""Values the databases can store: text without NUL or lone surrogates, ids up to ``MAX_ID``.

PostgreSQL refuses the NUL character (U+0000) in text and jsonb, and no database
driver can encode a lone surrogate (U+D800–U+DFFF, from a JSON ``\\ud800`` escape) as
UTF-8. Either one in a query parameter or a value to save used to end in a 500, and in
the ingest path it took the whole batch down with it. They are refused at the edge
(``sensorgrid.api.hygiene``, ``sensorgrid.ingest.validate``) with these helpers;
``escaped`` makes text that must be kept anyway (a dead letter's detail) storable.
"""

import re

# Surrogates cannot be written in a str literal pattern on their own, hence the escapes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NULL_MESSAGE = "Null characters are not allowed."

# Primary keys are 64-bit: a bigger id in a URL or a subscription cannot exist, and
# SQLite cannot even compare it (OverflowError), so look-ups answer "not found" first.
MAX_ID = 2**63 - 1


def problem(text: str) -> str | None:
    """What makes ``text`` unstorable, for a message (``None`` if nothing)."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    at = f"at position {found.start()}"
    if char == "\x00":
        return f"a null character (\\x00) {at}"
    return f"a lone surrogate (\\u{ord(char):04x}) {at}, which is not valid Unicode"


def message(text: str) -> str | None:
    """A user-facing sentence for an unstorable ``text`` (DRF's own wording for NUL)."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return NULL_MESSAGE
    return "Lone surrogate characters (\\ud800–\\udfff) are not allowed."


def escaped(text: str) -> str:
    """``text`` with NUL and lone surrogates written as ``\\x00`` / ``\\udXXX`` escapes."""
    if _UNSTORABLE.search(text) is None:
        return text  # the common case, without building a new string
    return _UNSTORABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def find_in_json(value: object, path: str = "") -> tuple[str, str] | None:
    """The first unstorable string in a parsed JSON value, keys included.

    Returns (where, message): ``where`` is a dotted path such as ``config.topic`` or
    ``items.2`` ("" for the top level).
    """
    if isinstance(value, str):
        text = message(value)
        return (path, text) if text else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (text := message(key)):
                return escaped(where), text
            found = find_in_json(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_in_json(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None
