"""One ``write`` per HTTP response: uvicorn's httptools protocol over a coalescing transport.

uvicorn writes a response's status line and headers as soon as the application sends
``http.response.start``, then the body on ``http.response.body``: two ``send`` system calls and,
with ``TCP_NODELAY``, two TCP segments that each wake the client. A profile of
``AssumeRoleWithWebIdentity`` under load put about half of the workers' time in those writes.
:class:`CoalescingTransport` gathers everything written during one turn of the event loop and
hands it to the socket's transport in one ``write`` at the end of that turn (``call_soon``), so a
response normally leaves in one system call and one segment. Nothing is reordered or dropped:
closing flushes first, and data written after the peer went away is discarded as the
underlying transport would.

``webfed serve`` passes :class:`CoalescingHttpToolsProtocol` to uvicorn as its ``http``
protocol; everything else about parsing and answering HTTP is uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingHttpToolsProtocol", "CoalescingTransport"]


class CoalescingTransport(asyncio.Transport):
    """Wraps a transport; writes made in one event-loop turn reach it as one ``write``."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


MAX_HEAD_BYTES = 64 * 1024  # request line + headers; AWS SDK requests use a few KiB
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools HTTP/1.1 protocol, writing through a :class:`CoalescingTransport`.

    It also caps the request head: httptools buffers header bytes without a limit, so a client
    could hold memory with one endless header line. Past ``MAX_HEAD_BYTES`` before the end of
    the headers, the connection gets ``431`` and is closed.
    """

    _head_open = True
    _head_bytes = 0
    _heads_seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport's methods without subclassing it.
        socket_transport = cast(asyncio.Transport, transport)
        super().connection_made(CoalescingTransport(socket_transport, self.loop))

    def data_received(self, data: bytes) -> None:
        heads_before = self._heads_seen
        super().data_received(data)
        # Count only chunks that leave a head unfinished and finished none: body bytes, and the
        # rest of a chunk in which a head ended, are never head bytes.
        if self._heads_seen != heads_before or not self._head_open:
            return
        if self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD_BYTES:
            self._head_open = False
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._heads_seen += 1
        self._head_open = False
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_open = True
        self._head_bytes = 0
