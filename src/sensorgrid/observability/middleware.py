"""Request ids, HTTP metrics and one structured access log line per request.

The first middleware in ``settings.MIDDLEWARE``, so its timing covers the others and
it sees the final response, redirects and error pages included. It runs in both
modes (WSGI and ASGI) without a thread hop.
"""

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from sensorgrid.observability import metrics
from sensorgrid.observability.context import REQUEST_ID
from sensorgrid.observability.routes import route_of

log = logging.getLogger("sensorgrid.http")

HEADER = "X-Request-ID"
#: A proxy's or client's id is kept only if it is a short, log-safe token.
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")
#: Other methods are counted as "other": a label value per invented method is a leak.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
#: Not measured or logged: Prometheus scraping itself every few seconds is noise.
_SILENT_ROUTES = frozenset({"metrics"})


def request_id_of(request: HttpRequest) -> str:
    """The caller's ``X-Request-ID`` if sane, else a new random id."""
    given = request.headers.get(HEADER, "")
    return given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex


def _printable(text: str) -> str:
    """``text`` with line breaks escaped, so a crafted URL cannot forge a log line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _logged_path(request: HttpRequest) -> str:
    """The path as logged: a secret in it (a URL argument named ``token`` or ``*_token``,
    e.g. a share link's) is cut to its first 8 characters, as the API shows tokens."""
    match = getattr(request, "resolver_match", None)
    secrets = {
        value
        for name, value in (match.kwargs.items() if match else ())
        if (name == "token" or name.endswith("_token")) and isinstance(value, str) and value
    }
    if not secrets:
        return _printable(request.path)
    parts = request.path.split("/")
    return _printable("/".join(f"{p[:8]}…" if p in secrets else p for p in parts))


class RequestMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        request_id = request_id_of(request)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            self._finish(request, response, request_id, started)
        finally:
            REQUEST_ID.reset(token)
        return response

    async def __acall__(self, request: HttpRequest):
        request_id = request_id_of(request)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            response = await self.get_response(request)
            self._finish(request, response, request_id, started)
        finally:
            REQUEST_ID.reset(token)
        return response

    def _finish(
        self, request: HttpRequest, response: HttpResponseBase, request_id: str, started: float
    ) -> None:
        response[HEADER] = request_id
        route = route_of(getattr(request, "resolver_match", None))
        if route in _SILENT_ROUTES:
            return
        seconds = time.perf_counter() - started
        method = request.method if request.method in _METHODS else "other"
        metrics.HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        metrics.HTTP_REQUEST_SECONDS.labels(method, route).observe(seconds)
        log.info(
            "%s %s %s %.1fms",
            method,
            _logged_path(request),
            response.status_code,
            seconds * 1000,
            extra={
                "route": route,
                "method": method,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
