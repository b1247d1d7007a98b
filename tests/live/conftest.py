"""Helpers for the live tests: a WebSocket client of the real ASGI application."""

import importlib.util
import sys
import types

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from sensorgrid.asgi import application


def _websocket_communicator():
    """channels.testing.WebsocketCommunicator without daphne.

    ``channels/testing/__init__.py`` imports the live-server test case, which needs
    daphne (not a dependency of ours: uvicorn serves). Load the package's submodules
    without running that ``__init__``.
    """
    if "channels.testing" not in sys.modules:
        spec = importlib.util.find_spec("channels")
        package = types.ModuleType("channels.testing")
        package.__path__ = [f"{spec.submodule_search_locations[0]}/testing"]
        sys.modules["channels.testing"] = package
    from channels.testing.websocket import WebsocketCommunicator

    return WebsocketCommunicator


WebsocketCommunicator = _websocket_communicator()

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


@pytest.fixture(autouse=True)
def fresh_live_cache():
    # Node ids are reused across transactional tests: no cached values of another test.
    cache.clear()
    yield
    cache.clear()


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(user=None, app=application) -> WebsocketCommunicator:
    """A connected client, signed in with a session cookie as ``user`` (None: anonymous)."""
    headers = list(ORIGIN)
    if user is not None:
        cookie = await sync_to_async(_session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(app, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def subscribe(communicator, **subscription) -> list[dict]:
    """Subscribe; return the answer (``subscribed`` then its snapshots, or ``error``)."""
    await communicator.send_json_to({"subscribe": subscription})
    first = await communicator.receive_json_from(timeout=3)
    frames = [first]
    if first["type"] == "subscribed":
        for _ in first["nodes"]:
            frames.append(await communicator.receive_json_from(timeout=3))
    return frames


async def frames_until(communicator, predicate, timeout: float = 3) -> list[dict]:
    """Frames received until one matches ``predicate`` (that one last)."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        seen.append(frame)
        if predicate(frame):
            return seen
