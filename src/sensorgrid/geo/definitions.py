"""Pipeline definition files (YAML or JSON): layers and pipelines as configuration.

::

    organization: my-city          # slug; or pass --organization to the command
    layers:
      - key: bike-parking
        name: Bicycle parking
        geometry_type: Point        # Point, LineString, Polygon or any
        public: true
        style: {color: "#2a7"}
    pipelines:
      - key: bike-parking-osm
        layer: bike-parking
        source: overpass
        schedule: "17 3 * * *"
        options: {query: "[out:json]; …"}

Loading is idempotent: objects are matched by key, so a file can be loaded again
after editing. Everything is checked before anything is written.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from sensorgrid.geo.models import GeometryType, Layer, Pipeline
from sensorgrid.geo.pipelines import options as option_schemas
from sensorgrid.tenancy.models import Organization

_ENTRY_KEY = {"type": "string", "minLength": 1}

#: The file's shape; each source's options are checked against its own schema (the
#: source's ``schema()``) when the pipeline is validated, so misspelt names are errors.
SCHEMA = {
    "type": "object",
    "properties": {
        "organization": {"type": "string"},
        "layers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": _ENTRY_KEY,
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "geometry_type": {"enum": [choice.value for choice in GeometryType]},
                    "public": {"type": "boolean"},
                    "style": {"type": "object"},
                },
                "required": ["key"],
                "additionalProperties": False,
            },
        },
        "pipelines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": _ENTRY_KEY,
                    "name": {"type": "string"},
                    "layer": _ENTRY_KEY,
                    "source": {"type": "string"},
                    "schedule": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "options": {"type": "object"},
                },
                "required": ["key", "layer", "source"],
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


class DefinitionError(Exception):
    """The file cannot be loaded; the message says where and why."""


@dataclass(frozen=True)
class Change:
    kind: str  # "layer" or "pipeline"
    key: str
    created: bool


def read(path: Path | str) -> dict:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path} is not YAML or JSON: {exc}") from None
    if not isinstance(document, dict) or not (document.get("layers") or document.get("pipelines")):
        raise DefinitionError(f"{path} defines no layers and no pipelines")
    return document


def _located(problem: str, document: dict) -> str:
    """ "pipelines.0.x: …" as the entry's number and key: "pipelines[1] (trees): x: …"."""
    head, sep, rest = problem.partition(": ")
    parts = head.split(".")
    if sep and len(parts) >= 2 and parts[0] in ("layers", "pipelines") and parts[1].isdigit():
        index = int(parts[1])
        entry = document[parts[0]][index]
        key = entry.get("key", "?") if isinstance(entry, dict) else "?"
        inner = ".".join(parts[2:])
        return f"{parts[0]}[{index + 1}] ({key}): {inner + ': ' if inner else ''}{rest}"
    return problem


def load(document: dict, organization_slug: str | None = None) -> list[Change]:
    problems = option_schemas.problems(SCHEMA, document, noun="field")
    if problems:
        raise DefinitionError("; ".join(_located(p, document) for p in problems))
    slug = organization_slug or document.get("organization")
    if not slug:
        raise DefinitionError("say which organization owns the layers (organization: <slug>)")
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise DefinitionError(f"no organization with the slug {slug!r}")
    layers = _list(document, "layers")
    pipelines = _list(document, "pipelines")
    changes: list[Change] = []
    with transaction.atomic():
        by_key: dict[str, Layer] = {}
        for number, spec in enumerate(layers, start=1):
            where = f"layers[{number}] ({spec.get('key', '?')})"
            layer = Layer.objects.filter(key=spec.get("key")).first()
            if layer is not None and layer.organization_id != organization.pk:
                raise DefinitionError(f"{where}: the key belongs to another organization's layer")
            created = layer is None
            layer = layer or Layer(organization=organization)
            layer.key = spec.get("key") or ""
            layer.name = spec.get("name") or layer.key
            layer.description = spec.get("description") or ""
            layer.geometry_type = spec.get("geometry_type") or GeometryType.ANY
            layer.is_public = bool(spec.get("public", False))
            layer.style = spec.get("style") or {}
            _save(layer, where)
            by_key[layer.key] = layer
            changes.append(Change("layer", layer.key, created))
        for number, spec in enumerate(pipelines, start=1):
            where = f"pipelines[{number}] ({spec.get('key', '?')})"
            layer_key = spec.get("layer")
            layer = (
                by_key.get(str(layer_key))
                or Layer.objects.filter(key=layer_key, organization=organization).first()
            )
            if layer is None:
                raise DefinitionError(
                    f"{where}: no layer {layer_key!r} in this file or organization"
                )
            pipeline = Pipeline.objects.filter(key=spec.get("key")).select_related("layer").first()
            if pipeline is not None and pipeline.layer.organization_id != organization.pk:
                raise DefinitionError(
                    f"{where}: the key belongs to another organization's pipeline"
                )
            created = pipeline is None
            pipeline = pipeline or Pipeline()
            pipeline.key = spec.get("key") or ""
            pipeline.name = spec.get("name") or ""
            pipeline.layer = layer
            pipeline.source = spec.get("source") or ""
            pipeline.schedule = spec.get("schedule") or ""
            pipeline.enabled = bool(spec.get("enabled", True))
            pipeline.options = spec.get("options") or {}
            _save(pipeline, where)
            changes.append(Change("pipeline", pipeline.key, created))
    return changes


def _list(document: dict, name: str) -> list[dict]:
    value = document.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise DefinitionError(f"{name} must be a list of objects")
    return value


def _save(obj, where: str) -> None:
    try:
        obj.full_clean(validate_unique=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
        raise DefinitionError(f"{where}: {problems}") from None
    obj.save()
