"""Downloads for the fetch step: bounded in time and size, errors as PipelineError.

Every source fetches through here, and so through the outbound guard: each connection,
redirects included, goes to a public address unless SENSORGRID_OUTBOUND_ALLOW says
otherwise. Errors name the URL and a fixed reason, never what the server answered.
"""

import urllib.error
import urllib.request

from django.conf import settings

from sensorgrid.geo.pipelines.items import PipelineError, Progress, no_progress
from sensorgrid.geo.pipelines.registry import Request
from sensorgrid.outbound.http import opener
from sensorgrid.outbound.reasons import reason

CHUNK = 64 * 1024


def user_agent() -> str:
    # Overpass and Wikipedia ask every client to say who it is.
    return settings.SENSORGRID_GEO_USER_AGENT


def download(request: Request, progress: Progress = no_progress) -> tuple[bytes, str]:
    """The body and content type of ``request``; PipelineError for anything but a 2xx."""
    timeout = settings.SENSORGRID_GEO_FETCH_TIMEOUT
    limit = settings.SENSORGRID_GEO_FETCH_MAX_BYTES
    headers = {"User-Agent": user_agent(), "Accept": "*/*", **request.headers}
    req = urllib.request.Request(
        request.url, data=request.data, headers=headers, method=request.method
    )
    try:
        with opener().open(req, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            if total is not None and total > limit:
                raise PipelineError(_too_big(request.url, limit))
            chunks, size = [], 0
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PipelineError(_too_big(request.url, limit))
                chunks.append(chunk)
                progress("fetch", size, total)
            return b"".join(chunks), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        exc.close()
        raise PipelineError(f"cannot fetch {request.url}: {reason(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:  # guard, refused, DNS, timeout, reset
        raise PipelineError(f"cannot fetch {request.url}: {reason(exc)}") from None


def _too_big(url: str, limit: int) -> str:
    return (
        f"{url} sends more than {limit} bytes (SENSORGRID_GEO_FETCH_MAX_BYTES); narrow the "
        "query or raise the limit."
    )
