"""parse: turn the document into items with the source's parser; bad records are skipped."""

from sensorgrid.geo.pipelines import registry
from sensorgrid.geo.pipelines.items import Context, Item


class Parse(registry.Step):
    key = "parse"

    def run(self, context: Context) -> None:
        parser = registry.source(context.pipeline.source)
        for entry in parser.parse(context.payload, context.options):
            if isinstance(entry, Item):
                context.items.append(entry)
            else:
                context.skips.append(entry)
            if len(context.items) % 500 == 0:
                context.progress("parse", len(context.items), None)
        done = len(context.items) + len(context.skips)
        context.progress("parse", done, done)
        context.payload = b""  # the document may be large; the items are what matters now
        context.note(f"parse: {len(context.items)} records")
