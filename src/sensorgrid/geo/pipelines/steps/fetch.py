"""fetch: download the source's document(s): one GET, or a WFS's capabilities and pages;
read a ``bundled:`` file shipped in the package instead (pipelines/bundled.py)."""

from django.conf import settings

from sensorgrid.geo.pipelines import bundled, http, registry, sources
from sensorgrid.geo.pipelines.items import Context, PipelineError
from sensorgrid.geo.pipelines.registry import Request


class Fetch(registry.Step):
    key = "fetch"

    def run(self, context: Context) -> None:
        limit = settings.SENSORGRID_GEO_FETCH_MAX_BYTES
        fetched = 0

        def download(request: Request) -> tuple[bytes, str]:
            nonlocal fetched
            context.note(f"fetch: {request.method} {request.url}")
            if bundled.is_bundled(request.url):  # shipped in the package: no network
                try:
                    payload, content_type = bundled.read(request.url, limit)
                except ValueError as exc:
                    raise PipelineError(str(exc)) from None
            else:
                payload, content_type = http.download(request, context.progress)
            context.note(f"fetch: {len(payload)} bytes ({content_type or 'no type'})")
            fetched += len(payload)
            if fetched > limit:  # pages add up: the limit bounds the run's memory
                raise PipelineError(
                    f"the source sends more than {limit} bytes in all "
                    "(SENSORGRID_GEO_FETCH_MAX_BYTES); narrow the query or raise the limit."
                )
            return payload, content_type

        source = sources.get(context.pipeline.source)
        context.documents = list(source.fetch(context.options, download))
