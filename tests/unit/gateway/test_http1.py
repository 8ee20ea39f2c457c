"""The upstream HTTP/1.1 client against a scripted origin on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from webfed.gateway.http1 import Http1Pool, UpstreamError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The request head and its body (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                return head, body
            body += data[:-2]
    for line in lowered.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return head, await reader.readexactly(int(line.split(b":")[1]))
    return head, b""


class Origin:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Origin:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def pool(self, **options: float) -> Http1Pool:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return Http1Pool("http", "127.0.0.1", port, **options)  # type: ignore[arg-type]


async def echo_keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        head, body = await read_request(reader)
        method = head.split(b" ", 1)[0]
        reply = b"echo:" + body
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nx-m: %s\r\n\r\n" % (len(reply), method)
        )
        if method != b"HEAD":
            writer.write(reply)
        await writer.drain()


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_keep_alive_reuses_one_connection() -> None:
    async with Origin(echo_keep_alive) as origin:
        pool = origin.pool()
        for n in range(3):
            response = await pool.request("PUT", "/k", [("content-length", "1")], str(n).encode())
            assert response.status_code == 200
            assert await response.read() == f"echo:{n}".encode()
            await response.aclose()
        assert origin.connections == 1
        await pool.aclose()


async def test_streamed_body_with_length_and_chunked() -> None:
    async with Origin(echo_keep_alive) as origin:
        pool = origin.pool()
        sized = await pool.request("PUT", "/", [("content-length", "6")], pieces(b"abc", b"def"))
        assert await sized.read() == b"echo:abcdef"
        await sized.aclose()
        chunked = await pool.request("PUT", "/", [], pieces(b"x" * 10, b"y"))
        assert await chunked.read() == b"echo:" + b"x" * 10 + b"y"
        await chunked.aclose()
        await pool.aclose()


async def test_head_has_no_body_and_keeps_the_connection() -> None:
    async with Origin(echo_keep_alive) as origin:
        pool = origin.pool()
        head = await pool.request("HEAD", "/", [], b"")
        assert head.status_code == 200
        assert (b"x-m", b"HEAD") in head.headers
        assert await head.read() == b""
        await head.aclose()
        again = await pool.request("GET", "/", [], b"")
        assert await again.read() == b"echo:"
        await again.aclose()
        assert origin.connections == 1
        await pool.aclose()


async def test_chunked_response_is_decoded() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        await writer.drain()
        await reader.read()

    async with Origin(chunked) as origin:
        pool = origin.pool()
        response = await pool.request("GET", "/", [], b"")
        assert await response.read() == b"abcde"
        await response.aclose()
        await pool.aclose()


async def test_close_delimited_response() -> None:
    async def http10(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
        await writer.drain()

    async with Origin(http10) as origin:
        pool = origin.pool()
        response = await pool.request("GET", "/", [], b"")
        assert await response.read() == b"until close"
        await response.aclose()
        await pool.aclose()


async def test_stale_idle_connection_is_retried_for_replayable_bodies() -> None:
    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        # keep-alive was promised, but the origin drops the connection once idle

    async with Origin(one_then_close) as origin:
        pool = origin.pool()
        for _ in range(2):
            response = await pool.request("GET", "/", [], b"")
            assert await response.read() == b"ok"
            await response.aclose()
            await asyncio.sleep(0.05)
        assert origin.connections == 2
        await pool.aclose()


@pytest.mark.parametrize(
    "reply",
    [b"NOT HTTP AT ALL\r\n\r\n", b"", b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"],
    ids=["garbage", "no-response", "truncated-body"],
)
async def test_broken_origins_raise_upstream_error(reply: bytes) -> None:
    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()

    async with Origin(broken) as origin:
        pool = origin.pool()
        with pytest.raises(UpstreamError):
            response = await pool.request("GET", "/", [], b"")
            await response.read()
        await pool.aclose()


async def test_unreachable_and_slow_origins() -> None:
    refused = Http1Pool("http", "127.0.0.1", 1)
    with pytest.raises(UpstreamError):
        await refused.request("GET", "/", [], b"")

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with Origin(silent) as origin:
        pool = origin.pool(read_timeout=0.2)
        with pytest.raises(UpstreamError):
            await pool.request("GET", "/", [], b"")
        await pool.aclose()


async def test_a_failing_body_stream_closes_the_connection() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"part"
        raise RuntimeError("body check failed")

    async with Origin(echo_keep_alive) as origin:
        pool = origin.pool()
        with pytest.raises(RuntimeError):
            await pool.request("PUT", "/", [("content-length", "100")], failing())
        response = await pool.request("GET", "/", [], b"")
        assert await response.read() == b"echo:"
        await response.aclose()
        assert origin.connections == 2
        await pool.aclose()
