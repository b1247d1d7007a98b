"""load: upsert the features by external id in one transaction; delete those gone.

Only features this pipeline loaded are deleted, so several pipelines may feed one
layer. A source that suddenly yields nothing is refused (``allow_empty: true`` to
accept it): an empty answer is more often an outage than an empty city.
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from sensorgrid.geo.models import Feature
from sensorgrid.geo.pipelines import registry
from sensorgrid.geo.pipelines.items import Context, PipelineError
from sensorgrid.geo.pipelines.options import MIN_SHARE

BATCH = 500


def fingerprint(feature) -> str:
    content = [
        feature.geometry,
        feature.properties,
        feature.valid_from.isoformat() if feature.valid_from else None,
        feature.valid_to.isoformat() if feature.valid_to else None,
    ]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _refuse_shrinking(kept: int, before: int, options: dict) -> None:
    """PipelineError if a run would keep less than ``min_share`` of this pipeline's
    features: a source that answers with part of its data (a service limit, a filter
    that changed) must not delete the rest (allow_shrink: true when it is real)."""
    share = options.get("min_share", MIN_SHARE)
    if not kept or not before or options.get("allow_shrink") or kept >= share * before:
        return
    raise PipelineError(
        f"the source yielded {kept} features where this pipeline had {before}, less than "
        f"{share:.0%} of them; the layer is kept as it was (set the option allow_shrink: "
        "true if the source really shrank, or lower min_share)"
    )


class Load(registry.Step):
    key = "load"

    def run(self, context: Context) -> None:
        pipeline = context.pipeline
        layer = pipeline.layer
        incoming = {f.external_id: f for f in context.features}
        with transaction.atomic():
            existing = {
                row["external_id"]: row
                for row in Feature.objects.filter(layer=layer).values(
                    "pk", "external_id", "fingerprint", "pipeline_id"
                )
            }
            mine = [r for r in existing.values() if r["pipeline_id"] == pipeline.pk]
            if not incoming and mine and not context.options.get("allow_empty"):
                raise PipelineError(
                    f"the source yielded no features; refusing to delete all {len(mine)} "
                    "features of the layer (set the option allow_empty: true if that is right)"
                )
            _refuse_shrinking(len(incoming), len(mine), context.options)
            foreign = sorted(
                key
                for key in incoming
                if key in existing and existing[key]["pipeline_id"] not in (None, pipeline.pk)
            )
            if foreign:
                raise PipelineError(
                    f"{len(foreign)} ids belong to features of another pipeline of this layer "
                    f"(e.g. {foreign[0]!r}); give the pipelines distinct ids"
                )
            now = timezone.now()
            create: list[Feature] = []
            update: list[Feature] = []
            unchanged = 0
            for external_id, feature in incoming.items():
                digest = fingerprint(feature)
                row = existing.get(external_id)
                if row is not None and row["fingerprint"] == digest and row["pipeline_id"]:
                    unchanged += 1
                    continue
                obj = Feature(
                    pk=row["pk"] if row else None,
                    layer=layer,
                    pipeline=pipeline,
                    external_id=external_id,
                    geometry=feature.geometry,
                    properties=feature.properties,
                    min_x=feature.bbox[0],
                    min_y=feature.bbox[1],
                    max_x=feature.bbox[2],
                    max_y=feature.bbox[3],
                    valid_from=feature.valid_from,
                    valid_to=feature.valid_to,
                    fingerprint=digest,
                    updated_at=now,
                )
                (update if row else create).append(obj)
            gone = [r["pk"] for r in mine if r["external_id"] not in incoming]
            total = len(create) + len(update) + len(gone)
            done = 0
            for start in range(0, len(create), BATCH):
                Feature.objects.bulk_create(create[start : start + BATCH])
                done += len(create[start : start + BATCH])
                context.progress("load", done, total)
            fields = [
                "pipeline",
                "geometry",
                "properties",
                "min_x",
                "min_y",
                "max_x",
                "max_y",
                "valid_from",
                "valid_to",
                "fingerprint",
                "updated_at",
            ]
            for start in range(0, len(update), BATCH):
                Feature.objects.bulk_update(update[start : start + BATCH], fields)
                done += len(update[start : start + BATCH])
                context.progress("load", done, total)
            for start in range(0, len(gone), BATCH):
                Feature.objects.filter(pk__in=gone[start : start + BATCH]).delete()
                done += len(gone[start : start + BATCH])
                context.progress("load", done, total)
        context.counts.update(
            created=len(create), updated=len(update), unchanged=unchanged, deleted=len(gone)
        )
        context.note(
            f"load: {len(create)} created, {len(update)} updated, {unchanged} unchanged, "
            f"{len(gone)} deleted"
        )
