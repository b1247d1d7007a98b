"""Frames written to the socket as made once (sensorgrid.runtime.websocket): the bytes a
follower gets are the WebSocket frame of the delta's text, in order with everything else
the connection sends, and a client whose socket is full still gets its deltas coalesced."""

import asyncio
import json

import pytest
import uvicorn
import websockets
from websockets.frames import OP_TEXT, Frame

from sensorgrid.live import metrics
from sensorgrid.live.client_queue import FRAMES_EXTENSION, ClientQueue
from sensorgrid.live.fanout import Delta, text_frame
from sensorgrid.runtime.websocket import LiveWebSocketProtocol
from tests.live.test_consumer import run
from tests.servers import free_port


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_text_frame_is_what_websockets_would_send(size):
    text = "é" * (size // 2) + "x" * (size % 2)
    expected = Frame(OP_TEXT, text.encode()).serialize(mask=False, extensions=[])
    assert text_frame(text) == expected


class Writer:
    """A connection's socket as the queue sees it: open or closed, full or not."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.open = True
        self.full = False
        self.drained = asyncio.Event()

    def ready(self) -> bool:
        return self.open and not self.full

    def write(self, data: bytes) -> bool:
        if self.open:
            self.writes.append(data)
        return self.open

    async def writable(self) -> bool:
        if self.full:
            await self.drained.wait()
        return self.open

    def frames(self) -> list[dict]:
        """The JSON of every frame written, in order (a write may hold several)."""
        found, data = [], b"".join(self.writes)
        while data:
            size, start = data[1], 2
            if size == 126:
                size, start = int.from_bytes(data[2:4]), 4
            found.append(json.loads(data[start : start + size]))
            data = data[start + size :]
        return found


def unused_send(text):
    raise AssertionError("with a writer nothing goes through send")


@run
async def test_frames_are_written_at_once_and_in_order_and_a_shared_delta_is_framed_once():
    writer = Writer()
    queue = ClientQueue(unused_send, lambda: None, 100, writer)
    delta = Delta(7, {"co2": (1_700_000_000.0, 600.0)})
    queue.put({"type": "subscribed", "node": 7, "nodes": [7]})
    queue.delta(7, delta)
    queue.delta(7, Delta(7, {"co2": (1_700_000_001.0, 610.0)}))
    assert [frame["type"] for frame in writer.frames()] == ["subscribed", "delta", "delta"]
    assert writer.writes[1] is delta.frame()  # the very bytes every follower gets
    assert [f["values"] for f in writer.frames()[1:]] == [{"co2": 600.0}, {"co2": 610.0}]
    queue.close()


@run
async def test_a_full_socket_gets_the_newest_values_in_one_write_once_it_drains():
    writer = Writer()
    queue = ClientQueue(unused_send, lambda: None, 100, writer)
    writer.full = True
    before = metrics.COALESCED._value.get()
    queue.delta(7, Delta(7, {"co2": (1_700_000_000.0, 600.0)}))
    queue.put({"type": "status", "node": 7, "status": "alive"}, live=True)
    queue.delta(7, Delta(7, {"co2": (1_700_000_001.0, 610.0)}))
    queue.delta(7, Delta(7, {"temperature": (1_700_000_002.0, 21.5)}))
    await asyncio.sleep(0.05)
    assert writer.writes == []
    assert metrics.COALESCED._value.get() - before == 1
    writer.full = False
    writer.drained.set()
    for _ in range(100):
        if writer.writes:
            break
        await asyncio.sleep(0.01)
    assert len(writer.writes) == 1
    assert writer.frames() == [
        {"type": "delta", "node": 7, "ts": "2023-11-14T22:13:20Z", "values": {"co2": 600.0}},
        {"type": "status", "node": 7, "status": "alive"},
        {
            "type": "delta",
            "node": 7,
            "ts": "2023-11-14T22:13:22Z",
            "values": {"co2": 610.0, "temperature": 21.5},
        },
    ]
    queue.close()


@run
async def test_nothing_is_written_to_a_closed_connection():
    writer = Writer()
    queue = ClientQueue(unused_send, lambda: None, 100, writer)
    writer.open = False
    queue.delta(7, Delta(7, {"co2": (1_700_000_000.0, 600.0)}))
    queue.put({"type": "status", "node": 7, "status": "alive"}, live=True)
    await asyncio.sleep(0.05)
    assert writer.writes == [] and queue.closed


async def frames_app(scope, receive, send):
    """Accepts, then says whether it got a frame writer, and writes one frame with it."""
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    writer = scope["extensions"].get(FRAMES_EXTENSION)
    await send({"type": "websocket.send", "text": json.dumps({"writer": writer is not None})})
    if writer is not None:
        assert writer.ready()
        assert writer.write(text_frame(json.dumps({"written": "directly"})))
    message = await receive()
    if message["type"] == "websocket.receive":
        await send({"type": "websocket.close", "code": 1000})
        assert not writer or not writer.write(text_frame("too late"))


async def serve(deflate: bool):
    config = uvicorn.Config(
        frames_app,
        port=free_port(),
        ws=LiveWebSocketProtocol,
        ws_per_message_deflate=deflate,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, f"ws://127.0.0.1:{config.port}/"


@run
async def test_the_server_writes_frames_directly_on_a_connection_without_extensions():
    server, task, url = await serve(deflate=False)
    try:
        # The client offers compression (as browsers do): the server declines it.
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv()) == {"writer": True}
            assert json.loads(await ws.recv()) == {"written": "directly"}
            await ws.send("bye")
            with pytest.raises(websockets.ConnectionClosedOK):
                await ws.recv()
    finally:
        server.should_exit = True
        await task


@run
async def test_a_connection_with_compression_has_no_frame_writer():
    server, task, url = await serve(deflate=True)
    try:
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv()) == {"writer": False}
            await ws.send("bye")
            with pytest.raises(websockets.ConnectionClosedOK):
                await ws.recv()
    finally:
        server.should_exit = True
        await task
