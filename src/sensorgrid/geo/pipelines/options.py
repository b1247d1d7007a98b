"""The options a pipeline's source reads, as JSON Schemas: unknown names are an error.

Each source declares its own options; these are the ones every source (or every
source with coordinates) shares. ``problems`` turns schema errors into messages that
name the option and, for a misspelt one, the name that was probably meant.
"""

import difflib
from typing import Any

import jsonschema

#: Options of every source.
COMMON: dict[str, dict[str, Any]] = {
    "url": {
        "type": "string",
        "description": "http(s) address of the document, or bundled:<path> (a file shipped "
        "in sensorgrid/geo/bundled/)",
    },
    "encoding": {"type": "string", "description": "text encoding, default UTF-8"},
    "mapping": {"type": "object", "description": "field mapping (docs/pipelines.md)"},
    "repair": {"type": "boolean", "description": "fix invalid polygons instead of skipping"},
    "allow_empty": {"type": "boolean", "description": "accept an answer without features"},
    "allow_shrink": {"type": "boolean", "description": "accept losing more than min_share"},
    "min_share": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "share of the previous run's features a run must keep (0.5)",
    },
}

#: Options of sources whose coordinates may be in another system or order.
COORDINATES: dict[str, dict[str, Any]] = {
    "srs": {"type": "string", "description": "coordinate system, e.g. EPSG:25832"},
    "axis_order": {"enum": ["xy", "yx"], "description": "xy (lon, lat) or yx (lat, lon)"},
}

#: Default of min_share: a run that loses more than half a layer is more often a broken
#: source (a filter that changed, a service returning a subset) than a city that changed.
MIN_SHARE = 0.5


def schema(own: dict[str, dict[str, Any]], coordinates: bool) -> dict[str, Any]:
    """The JSON Schema of a source's options object."""
    properties = {**COMMON, **(COORDINATES if coordinates else {}), **own}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def problems(schema: dict[str, Any], instance: Any, noun: str = "option") -> list[str]:
    """Every way ``instance`` breaks ``schema``, as messages ("count: 'x' is not …")."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    return [_describe(error, noun) for error in errors]


def _describe(error: jsonschema.ValidationError, noun: str) -> str:
    where = ".".join(str(part) for part in error.absolute_path)
    prefix = f"{where}: " if where else ""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known), key=str)
        names = []
        for name in unknown:
            close = _meant(str(name), known)
            names.append(repr(name) + (f" (did you mean {close!r}?)" if close else ""))
        plural = "s" if len(unknown) > 1 else ""
        return f"{prefix}unknown {noun}{plural} {', '.join(names)}; known: {', '.join(known)}"
    if error.validator == "enum" and isinstance(error.validator_value, list):
        allowed = ", ".join(map(str, error.validator_value))
        return f"{prefix}{error.instance!r} is not one of {allowed}"
    return f"{prefix}{error.message}"


def _meant(name: str, known: list[str]) -> str | None:
    """The known name a misspelt one probably meant: one it contains (srs in srs_name),
    else the closest spelling (count for cuont)."""
    inside = [k for k in known if k in name.lower()]
    if inside:
        return max(inside, key=len)
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    return close[0] if close else None
