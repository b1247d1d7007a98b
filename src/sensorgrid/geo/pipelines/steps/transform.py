"""transform: map fields to id, geometry, properties and time span; check geometries."""

from sensorgrid.geo.pipelines import mapping, registry
from sensorgrid.geo.pipelines.items import Context, Unusable


class Transform(registry.Step):
    key = "transform"

    def run(self, context: Context) -> None:
        rules = context.options.get("mapping") or {}
        layer_type = context.pipeline.layer.geometry_type
        repair = bool(context.options.get("repair"))
        srs, axis_order = context.options.get("srs"), context.options.get("axis_order")
        seen: dict[str, str] = {}
        total = len(context.items)
        for done, item in enumerate(context.items, start=1):
            try:
                feature = mapping.apply(item, rules, layer_type, repair, srs, axis_order)
            except ValueError as exc:
                context.skip(item.ref, str(exc))
                continue
            first = seen.get(feature.external_id)
            if first is not None:
                context.skip(item.ref, f"duplicate id {feature.external_id!r} (first: {first})")
                continue
            seen[feature.external_id] = item.ref
            context.features.append(feature)
            if done % 500 == 0:
                context.progress("transform", done, total)
        context.progress("transform", total, total)
        context.items = []
        if not context.features and context.skips:
            example = context.skips[0]
            raise Unusable(
                f"all {len(context.skips)} records were skipped (the first: {example.ref}: "
                f"{example.reason}); check the mapping and the options against the source"
            )
        context.note(f"transform: {len(context.features)} features")
