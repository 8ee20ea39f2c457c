"""The coalescing transport: one write per event-loop turn, nothing lost, reordered or late."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webfed.http.server_protocol import CoalescingHttpToolsProtocol, CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """Stands in for the socket's transport: records writes and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 7


async def _turn() -> None:
    await asyncio.sleep(0)


async def test_writes_in_one_turn_leave_as_one_write() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
    transport.write(b"body")
    assert inner.writes == []  # nothing leaves before the turn ends
    assert transport.get_write_buffer_size() == 7 + 42
    await _turn()
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody"]


async def test_writes_in_separate_turns_leave_separately_and_in_order() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"one")
    await _turn()
    transport.writelines([b"two", bytearray(b"three"), memoryview(b"")])
    await _turn()
    assert inner.writes == [b"one", b"twothree"]


async def test_close_flushes_before_closing() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"last words")
    transport.close()
    assert inner.events == ["write", "close"]
    assert inner.writes == [b"last words"]
    await _turn()  # the scheduled flush finds nothing left to write
    assert inner.writes == [b"last words"]


async def test_abort_drops_what_is_pending() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"never sent")
    transport.abort()
    await _turn()
    assert inner.events == ["abort"]


async def test_nothing_is_written_once_the_peer_has_gone() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"too late")
    inner.closing = True  # the connection was lost before the turn ended
    await _turn()
    assert inner.writes == []
    assert transport.is_closing()


async def test_extra_info_passes_through() -> None:
    transport = CoalescingTransport(RecordingTransport(), asyncio.get_running_loop())
    assert transport.get_extra_info("peername") == ("127.0.0.1", 5555)
    assert transport.get_extra_info("socket", "none") == "none"


@given(st.lists(st.lists(st.binary(max_size=64), max_size=5), max_size=8))
def test_any_writes_arrive_complete_and_in_order(turns: list[list[bytes]]) -> None:
    async def run() -> bytes:
        inner = RecordingTransport()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        for chunks in turns:
            for chunk in chunks:
                transport.write(chunk)
            await _turn()
        assert len(inner.writes) <= len(turns)  # at most one write per turn
        return b"".join(inner.writes)

    assert asyncio.run(run()) == b"".join(b"".join(chunks) for chunks in turns)


async def _echo(request: Request) -> Response:
    body = await request.body()
    return Response(body[::-1], headers={"x-seen": str(len(body))})


@pytest.mark.timeout(30)
async def test_a_real_uvicorn_server_answers_through_it(unused_tcp_port: int) -> None:
    app = Starlette(routes=[Route("/", _echo, methods=["POST"])])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=unused_tcp_port,
        http=CoalescingHttpToolsProtocol,
        log_level="error",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{unused_tcp_port}") as client:
            for size in (0, 5, 70_000):  # the last is larger than one socket write
                payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
                response = await client.post("/", content=payload)
                assert response.status_code == 200
                assert response.content == payload[::-1]
                assert response.headers["x-seen"] == str(size)
    finally:
        server.should_exit = True
        await serving
