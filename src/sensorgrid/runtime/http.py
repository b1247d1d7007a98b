"""Django over ASGI with one thread hop per request instead of one per middleware, on
threads that live on instead of one started and joined per request.

Django's ASGI handler runs the middleware chain in async mode. Its built-in
middleware (``MiddlewareMixin``) then runs every ``process_request`` and
``process_response`` through ``sync_to_async``, and our views are synchronous
anyway: about fifteen hops between the event loop and a thread per request, which
made ``/healthz`` cost 3.4 ms of CPU (docs/performance.md). Here the chain is
loaded in sync mode, as under WSGI, and a request crosses to its thread once.

Django keeps each request's synchronous work on one thread of its own (asgiref's
``ThreadSensitiveContext``): the view, and ``response.close()``, where
``request_finished`` gives the database connection back. By default that is a new
thread per request, started for it and joined after it (a fifth of an ingest
server's CPU under load, docs/performance.md). Here each request borrows an idle
single-thread executor (``ThreadSensitiveContext(executor=…)``, asgiref ≥ 3.13) and
gives it back: the same guarantee, one thread per request at a time, as a threaded
WSGI server gives, without the thread start-ups.

Reading the body, the disconnect watch and sending the response stay Django's,
on the event loop; WebSockets do not pass through here (Channels, ``asgi.py``).
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler

#: Idle request threads kept for the next requests; more at once are shut down after.
IDLE_THREADS = 32


class RequestThreads:
    """Single-thread executors for requests, reused. Used from the event loop only."""

    def __init__(self, keep: int = IDLE_THREADS) -> None:
        self._keep = keep
        self._idle: list[ThreadPoolExecutor] = []

    def take(self) -> ThreadPoolExecutor:
        if self._idle:
            return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        # A call still running (a request whose client went away) finishes before the
        # next request's first one: one call at a time on the thread, as asgiref wants.
        if len(self._idle) < self._keep:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)


class OneHopASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = RequestThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":  # as Django's own
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)

    async def get_response_async(self, request):
        # thread_sensitive: the thread of this request's ThreadSensitiveContext, where
        # Django also closes the response (and returns the database connection).
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
