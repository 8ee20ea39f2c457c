"""A lean HTTP/1.1 client for the one upstream a gateway talks to (RFC 9112).

The gateway's added latency is the product, and a general-purpose client costs several hundred
microseconds per request in bookkeeping the gateway does not need (cookies, redirects, auth
hooks, cross-library locks). This client does only what a reverse proxy needs: keep-alive
connections to one origin, a request head written in one piece, bodies streamed in either
direction (``Content-Length`` or chunked requests; responses parsed by ``httptools``, the C
parser uvicorn uses), and timeouts.

Connection reuse (RFC 9112 section 9.3): a connection goes back to the idle pool only after a
complete response that allows keep-alive and whose request body was sent whole. A request body
is exactly as long as its ``Content-Length`` (never a byte more: the origin would read the
excess as another request); a request that fails while sending aborts its connection. A request with
a replayable (bytes) body that fails on a reused connection before any response byte arrives is
retried once on a new connection (the origin may have closed the idle one; RFC 9112 section
9.3.1). A streamed body cannot be replayed, so it takes an idle connection only if that
connection was last used within :data:`FRESH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httptools  # the C parser uvicorn[standard] ships

from webfed.core.sigv4.encoding import wire_bytes

__all__ = ["FRESH_SECONDS", "Http1Pool", "UpstreamError", "UpstreamResponse"]

FRESH_SECONDS = 2.0
READ_SIZE = 256 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})


class UpstreamError(Exception):
    """The upstream could not be reached, or broke the protocol, or timed out."""


@dataclass(slots=True, eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float = field(default_factory=time.monotonic)
    reused: bool = False

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        """Drop the connection at once, discarding anything not yet written (no reuse)."""
        self.writer.transport.abort()


class _Parser:
    """httptools callbacks, collected."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.headers_done = False
        self.done = False
        self.keep_alive = False
        self.parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # Asked now: once the message completes, the parser has reset and answers False.
        self.keep_alive = self.parser is not None and self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


class UpstreamResponse:
    """Status, raw headers, and the body to stream with :meth:`iter_body` (then ``aclose``)."""

    def __init__(
        self,
        pool: Http1Pool,
        connection: _Connection,
        parser: httptools.HttpResponseParser,
        state: _Parser,
        *,
        no_body: bool,
    ) -> None:
        self.status_code: int = parser.get_status_code()
        self.headers = state.headers
        self._pool = pool
        self._connection: _Connection | None = connection
        self._parser = parser
        self._state = state
        self._done = no_body or state.done
        self._until_close = not no_body and not any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _ in state.headers
        )

    async def iter_body(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        while True:
            if self._state.body:
                pieces, self._state.body = self._state.body, []
                yield b"".join(pieces) if len(pieces) > 1 else pieces[0]
            if self._done or self._state.done:
                self._done = True
                return
            data = await self._pool.read(connection)
            if not data:
                if self._until_close:
                    self._done = True
                    return
                self._abandon()
                raise UpstreamError("the upstream closed the connection mid-response")
            self._feed(data)

    def _abandon(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._abandon()
            raise UpstreamError("the upstream's response is malformed") from error

    async def read(self) -> bytes:
        parts = [piece async for piece in self.iter_body()]
        return b"".join(parts)

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        reusable = self._done and not self._until_close and self._state.keep_alive
        self._pool.release(connection, reusable=reusable)


class Http1Pool:
    """Keep-alive connections to one origin (``http`` or ``https``, host, port)."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        max_idle: int = 64,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if scheme not in ("http", "https"):
            raise ValueError("the upstream must be http or https")
        self._host = host
        self._port = port
        self._ssl = (ssl_context or ssl.create_default_context()) if scheme == "https" else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = max_idle
        self._idle: list[_Connection] = []

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def release(self, connection: _Connection, *, reusable: bool) -> None:
        if reusable and len(self._idle) < self._max_idle:
            connection.last_used = time.monotonic()
            connection.reused = True
            self._idle.append(connection)
        else:
            connection.close()

    async def read(self, connection: _Connection) -> bytes:
        try:
            async with asyncio.timeout(self._read_timeout):
                return await connection.reader.read(READ_SIZE)
        except (OSError, TimeoutError) as error:
            connection.close()
            raise UpstreamError(
                f"reading from the upstream failed: {type(error).__name__}"
            ) from None

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self._host, self._port, ssl=self._ssl, limit=READ_SIZE
                )
        except (OSError, TimeoutError) as error:
            raise UpstreamError(
                f"connecting to the upstream failed: {type(error).__name__}"
            ) from None
        return _Connection(reader, writer)

    def _take_idle(self, replayable: bool) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.writer.is_closing() or connection.reader.at_eof():
                connection.close()
                continue
            if replayable or now - connection.last_used < FRESH_SECONDS:
                return connection
            connection.close()
        return None

    async def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | AsyncIterator[bytes],
    ) -> UpstreamResponse:
        """Send the request; the response's headers are read, its body is not yet."""
        length = _content_length(headers)
        head = _head(
            method, target, headers, chunked=not isinstance(body, bytes) and length is None
        )
        if isinstance(body, bytes) and length is not None and len(body) != length:
            raise UpstreamError("the request body does not match its Content-Length")
        replayable = isinstance(body, bytes)
        connection = self._take_idle(replayable) or await self._connect()
        try:
            return await self._exchange(connection, method, head, body, length)
        except _StaleConnection:
            connection.close()
            assert isinstance(body, bytes)
            return await self._exchange(await self._connect(), method, head, body, length)

    async def _exchange(
        self,
        connection: _Connection,
        method: str,
        head: bytes,
        body: bytes | AsyncIterator[bytes],
        length: int | None,
    ) -> UpstreamResponse:
        try:
            await self._send(connection, head, body, length)
            return await self._response(connection, method)
        except _StaleConnection:
            raise
        except BaseException:
            # A body cut short (a failed check, a length that does not match) must never be
            # completed by whatever comes next on this connection: drop it, unflushed bytes too.
            connection.abort()
            raise

    async def _send(
        self,
        connection: _Connection,
        head: bytes,
        body: bytes | AsyncIterator[bytes],
        length: int | None,
    ) -> None:
        writer = connection.writer
        try:
            if isinstance(body, bytes):
                writer.write(head + body)
            else:
                writer.write(head)
                chunked = head.endswith(b"transfer-encoding: chunked\r\n\r\n")
                await _stream(writer, body, length, chunked=chunked)
            await writer.drain()
        except OSError:
            if connection.reused and isinstance(body, bytes):
                raise _StaleConnection from None
            raise UpstreamError("sending to the upstream failed") from None

    async def _response(self, connection: _Connection, method: str) -> UpstreamResponse:
        state = _Parser()
        parser = httptools.HttpResponseParser(state)
        state.parser = parser
        first = True
        while not state.headers_done:
            data = await self.read(connection)
            if not data:
                if first and connection.reused:
                    raise _StaleConnection
                raise UpstreamError("the upstream closed the connection without a response")
            first = False
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as error:
                raise UpstreamError("the upstream's response is malformed") from error
        status = parser.get_status_code()
        no_body = method == "HEAD" or status in _NO_BODY_STATUSES or status < 200
        return UpstreamResponse(self, connection, parser, state, no_body=no_body)


async def _stream(
    writer: asyncio.StreamWriter,
    body: AsyncIterator[bytes],
    length: int | None,
    *,
    chunked: bool,
) -> None:
    """Write ``body``; with a ``length``, never a byte past it, and not one byte fewer.

    Bytes past a declared ``Content-Length`` would be read by the origin as the start of another
    request (RFC 9112 section 6.3): the piece that would overflow is refused unwritten.
    """
    sent = 0
    async for piece in body:
        sent += len(piece)
        if length is not None and sent > length:
            raise UpstreamError("the request body is longer than its Content-Length")
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        await writer.drain()
    if length is not None and sent != length:
        raise UpstreamError("the request body is shorter than its Content-Length")
    if chunked:
        writer.write(b"0\r\n\r\n")


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    values = [value.strip() for name, value in headers if name.lower() == "content-length"]
    if not values:
        return None
    if len(values) > 1 or not values[0].isdigit():
        raise UpstreamError("the request must carry one whole-number Content-Length")
    return int(values[0])


class _StaleConnection(Exception):
    """A reused connection the origin had already closed: retry a replayable request once."""


def _head(method: str, target: str, headers: list[tuple[str, str]], *, chunked: bool) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers]
    if chunked:
        lines.append("transfer-encoding: chunked")
    # Header text holds the client's bytes as UTF-8/surrogateescape (see proxy.py): write
    # those bytes back, exactly the ones the upstream signature covers.
    return wire_bytes("\r\n".join(lines) + "\r\n\r\n")
