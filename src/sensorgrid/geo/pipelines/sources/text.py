"""Decoding helpers shared by the sources."""

import json
from typing import Any

from sensorgrid.geo.pipelines.items import PipelineError


def decode(payload: bytes, options: dict, what: str) -> str:
    encoding = options.get("encoding") or "utf-8-sig"
    try:
        return payload.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise PipelineError(
            f"the {what} is not {encoding} text ({exc}); set the option encoding, e.g. latin-1"
        ) from None


def load_json(payload: bytes, options: dict, what: str) -> Any:
    text = decode(payload, options, what)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        start = text.lstrip()[:60].replace("\n", " ")
        raise PipelineError(f"the {what} is not JSON ({exc}); it starts with {start!r}") from None
