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
from sensorgrid.tenancy.models import Organization

LAYER_KEYS = {"key", "name", "description", "geometry_type", "public", "style"}
PIPELINE_KEYS = {"key", "name", "layer", "source", "schedule", "enabled", "options"}


class DefinitionError(Exception):
    """The file cannot be loaded; the message says where and why."""


@dataclass(frozen=True)
class Change:
    kind: str  # "layer" or "pipeline"
    key: str
    created: bool


def read(path: Path) -> dict:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path} is not YAML or JSON: {exc}") from None
    if not isinstance(document, dict) or not (document.get("layers") or document.get("pipelines")):
        raise DefinitionError(f"{path} defines no layers and no pipelines")
    return document


def load(document: dict, organization_slug: str | None = None) -> list[Change]:
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
            _keys(spec, LAYER_KEYS, where)
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
            _keys(spec, PIPELINE_KEYS, where)
            layer_key = spec.get("layer")
            layer = (
                by_key.get(layer_key)
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


def _keys(spec: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(spec) - known)
    if unknown:
        raise DefinitionError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _save(obj, where: str) -> None:
    try:
        obj.full_clean(validate_unique=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
        raise DefinitionError(f"{where}: {problems}") from None
    obj.save()
