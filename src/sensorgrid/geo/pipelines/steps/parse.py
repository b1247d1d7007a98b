"""parse: turn the document(s) into items with the source's parser; bad records are skipped."""

from sensorgrid.geo.pipelines import registry, sources
from sensorgrid.geo.pipelines.items import Context, Item


class Parse(registry.Step):
    key = "parse"

    def run(self, context: Context) -> None:
        parser = sources.get(context.pipeline.source)
        documents, context.documents = context.documents, []  # large; the items matter now
        for document in documents:
            options = {**context.options, **document.hints}
            for entry in parser.parse(document.payload, options):
                if isinstance(entry, Item):
                    context.items.append(entry)
                else:
                    context.skips.append(entry)
                if len(context.items) % 500 == 0:
                    context.progress("parse", len(context.items), None)
        done = len(context.items) + len(context.skips)
        context.progress("parse", done, done)
        context.note(f"parse: {len(context.items)} records")
