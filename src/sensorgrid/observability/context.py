"""Per-request context that log records and responses carry (the request id).

A ``ContextVar`` rather than a thread-local: under ASGI one thread serves many
requests, and asgiref copies the context into the threads that run sync views.
"""

from contextvars import ContextVar

#: The id of the request being served, None outside a request.
REQUEST_ID: ContextVar[str | None] = ContextVar("sensorgrid_request_id", default=None)
