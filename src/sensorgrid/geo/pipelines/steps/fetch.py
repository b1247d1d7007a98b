"""fetch: download the source document."""

from sensorgrid.geo.pipelines import http, registry
from sensorgrid.geo.pipelines.items import Context


class Fetch(registry.Step):
    key = "fetch"

    def run(self, context: Context) -> None:
        request = registry.source(context.pipeline.source).request(context.options)
        context.note(f"fetch: {request.method} {request.url}")
        context.payload, context.content_type = http.download(request, context.progress)
        context.note(f"fetch: {len(context.payload)} bytes ({context.content_type or 'no type'})")
