"""parse: turn the document(s) into items with the source's parser; bad records are skipped,
doubtful ones kept with a warning in the run's log."""

from sensorgrid.geo.pipelines import registry, sources
from sensorgrid.geo.pipelines.items import Context, Item, Notice

#: Warnings listed one by one in a run's log; the rest are counted.
LOGGED_WARNINGS = 200


class Parse(registry.Step):
    key = "parse"

    def run(self, context: Context) -> None:
        parser = sources.get(context.pipeline.source)
        documents, context.documents = context.documents, []  # large; the items matter now
        warnings = 0
        for document in documents:
            options = {**context.options, **document.hints}
            for entry in parser.parse(document.payload, options):
                if isinstance(entry, Item):
                    context.items.append(entry)
                elif isinstance(entry, Notice):
                    warnings += 1
                    if warnings <= LOGGED_WARNINGS:
                        context.note(f"warning {entry.ref}: {entry.message}")
                    continue
                else:
                    context.skips.append(entry)
                if len(context.items) % 500 == 0:
                    context.progress("parse", len(context.items), None)
        done = len(context.items) + len(context.skips)
        context.progress("parse", done, done)
        if warnings > LOGGED_WARNINGS:
            context.note(f"… and {warnings - LOGGED_WARNINGS} more warnings")
        context.note(f"parse: {len(context.items)} records")
