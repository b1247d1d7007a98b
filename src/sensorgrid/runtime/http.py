"""Django over ASGI with one thread hop per request instead of one per middleware.

Django's ASGI handler runs the middleware chain in async mode. Its built-in
middleware (``MiddlewareMixin``) then runs every ``process_request`` and
``process_response`` through ``sync_to_async``, and our views are synchronous
anyway: about fifteen hops between the event loop and a thread per request, which
made ``/healthz`` cost 3.4 ms of CPU (docs/performance.md). Here the chain is
loaded in sync mode, as under WSGI, and a request crosses to its thread once.

Reading the body, the disconnect watch and sending the response stay Django's,
on the event loop; WebSockets do not pass through here (Channels, ``asgi.py``).
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler


class OneHopASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        # thread_sensitive: the thread of this request's ThreadSensitiveContext, where
        # Django also closes the response (and returns the database connection).
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
