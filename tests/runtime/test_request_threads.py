"""The ASGI handler runs each request's sync work on one thread, reused by later requests."""

import threading

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started

from sensorgrid.runtime.http import OneHopASGIHandler, RequestThreads


def get(app, path: str) -> int:
    async def exchange() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 40000),
            "server": ("localhost", 80),
        }
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(10)
        await communicator.receive_output(10)  # the body
        await communicator.wait(10)
        return start["status"]

    return async_to_sync(exchange)()


def test_a_requests_view_and_its_close_share_a_thread_the_next_request_reuses(db):
    seen: list[tuple[str, threading.Thread]] = []  # objects: idents are reused

    def started(**kwargs):
        seen.append(("started", threading.current_thread()))

    def finished(**kwargs):
        seen.append(("finished", threading.current_thread()))

    app = OneHopASGIHandler()
    request_started.connect(started, dispatch_uid="test-threads-started")
    request_finished.connect(finished, dispatch_uid="test-threads-finished")
    try:
        assert [get(app, "/healthz"), get(app, "/healthz")] == [200, 200]
    finally:
        request_started.disconnect(dispatch_uid="test-threads-started")
        request_finished.disconnect(dispatch_uid="test-threads-finished")
    # request_finished, where Django gives the database connection back, ran on the
    # thread of the view; the second request had no thread started for it.
    threads = {thread for event, thread in seen if event == "finished"}
    assert [event for event, _ in seen].count("finished") == 2
    assert len(threads) == 1 and threading.current_thread() not in threads


def test_requests_at_the_same_time_get_threads_of_their_own():
    threads = RequestThreads(keep=1)
    first, second = threads.take(), threads.take()
    assert first is not second
    threads.give_back(first)
    threads.give_back(second)  # one more idle than kept: shut down
    assert threads.take() is first
    assert threads.take() is not second
