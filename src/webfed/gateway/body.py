"""Request bodies, streamed from the client to the upstream and checked on the way.

Nothing is buffered whole. Each stream checks the body against what the client signed:

* a hex ``x-amz-content-sha256``: the SHA-256 is computed as bytes flow;
* ``STREAMING-*`` (``aws-chunked``): :class:`~webfed.core.sigv4.AwsChunkedDecoder` releases a
  chunk only once its signature is verified; trailing checksums (CRC32, SHA-1, SHA-256) are
  checked against the decoded bytes;
* ``UNSIGNED-PAYLOAD``: passed through, as S3 does.

A check can only fail at the end, so the last piece of every body is held back until the
check has passed: if it fails, the upstream never receives the whole ``Content-Length`` and
discards the request instead of storing a body the client did not sign.

The length is enforced both ways (RFC 9112 section 6.3: a message is exactly as long as its
framing says): the upstream is told a ``Content-Length`` (the client's, or
``x-amz-decoded-content-length`` for ``aws-chunked``), and a body that would outgrow it fails
*before* the excess is released. Bytes past the declared length would otherwise be read by the
upstream as a second request on the same connection, one the gateway never authorized.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from webfed.core.sigv4 import AwsChunkedDecoder
from webfed.errors import (
    IncompleteBody,
    IncompleteSignature,
    RequestEntityTooLarge,
    XAmzContentSHA256Mismatch,
)

__all__ = [
    "ClientDisconnected",
    "Receive",
    "chunked_body",
    "client_body",
    "digest_checked",
    "exact_length",
    "read_all",
]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


class ClientDisconnected(Exception):
    """The client went away before sending the whole body."""


async def client_body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body as the ASGI server hands it over, piece by piece."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def read_all(receive: Receive, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes (for small JSON and XML bodies)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in client_body(receive):
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge(f"The request body exceeds {limit} bytes.")
        parts.append(chunk)
    return b"".join(parts)


async def exact_length(pieces: AsyncIterator[bytes], expected: int) -> AsyncIterator[bytes]:
    """``pieces`` unchanged, provided they add up to exactly ``expected`` bytes.

    Raises ``IncompleteBody`` as soon as a piece would go past ``expected`` (that piece is not
    released), or at the end when fewer bytes came.
    """
    size = 0
    async for piece in pieces:
        size += len(piece)
        if size > expected:
            raise IncompleteBody("The request body is longer than its Content-Length.")
        yield piece
    if size != expected:
        raise IncompleteBody(
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        )


async def _hold_back_last(
    pieces: AsyncIterator[bytes], check: Callable[[], None]
) -> AsyncIterator[bytes]:
    """Yield ``pieces`` one behind; run ``check`` before releasing the last one."""
    pending: bytes | None = None
    async for piece in pieces:
        if not piece:
            continue
        if pending is not None:
            yield pending
        pending = piece
    check()
    if pending is not None:
        yield pending


async def digest_checked(pieces: AsyncIterator[bytes], expected_hex: str) -> AsyncIterator[bytes]:
    """``pieces`` unchanged, provided they hash to ``expected_hex``."""
    digest = hashlib.sha256()

    async def hashed() -> AsyncIterator[bytes]:
        async for piece in pieces:
            digest.update(piece)
            yield piece

    def check() -> None:
        if not hmac.compare_digest(digest.hexdigest(), expected_hex.lower()):
            raise XAmzContentSHA256Mismatch(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )

    async for piece in _hold_back_last(hashed(), check):
        yield piece


class _Checksum(Protocol):
    def update(self, data: bytes) -> None: ...

    def b64(self) -> str: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def b64(self) -> str:
        return base64.b64encode(self.value.to_bytes(4, "big")).decode()


class _Hash:
    def __init__(self, name: str) -> None:
        self.hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self.hash.update(data)

    def b64(self) -> str:
        return base64.b64encode(self.hash.digest()).decode()


_CHECKSUMS: dict[str, Callable[[], _Checksum]] = {
    "x-amz-checksum-crc32": _Crc32,
    "x-amz-checksum-sha1": lambda: _Hash("sha1"),
    "x-amz-checksum-sha256": lambda: _Hash("sha256"),
}


_LENGTH_DIFFERS = "The decoded payload length differs from x-amz-decoded-content-length."


def _check_trailing_checksums(decoder: AwsChunkedDecoder, computed: dict[str, _Checksum]) -> None:
    for name, value in decoder.trailers.items():
        checksum = computed.get(name)
        if checksum is not None and not hmac.compare_digest(checksum.b64(), value.strip()):
            raise IncompleteSignature(
                f"The trailing {name} does not match the payload.",
                explanation={"check": "trailing-checksum", "reason": name},
            )


async def chunked_body(
    pieces: AsyncIterator[bytes],
    decoder: AwsChunkedDecoder,
    declared_length: int | None,
    trailer_names: tuple[str, ...] = (),
) -> AsyncIterator[bytes]:
    """The decoded payload of an ``aws-chunked`` body, every chunk verified before release.

    ``trailer_names`` (from ``x-amz-trailer``) say which checksums to compute on the way. With
    ``declared_length`` (``x-amz-decoded-content-length``), the decoded bytes never go past it:
    the piece that would is refused, not released.
    """
    computed = {name: _CHECKSUMS[name]() for name in trailer_names if name in _CHECKSUMS}

    async def decoded() -> AsyncIterator[bytes]:
        async for piece in pieces:
            out = decoder.feed(piece)
            if declared_length is not None and decoder.decoded_length > declared_length:
                raise IncompleteSignature(_LENGTH_DIFFERS)
            for checksum in computed.values():
                checksum.update(out)
            yield out

    def check() -> None:
        decoder.finish()
        if declared_length is not None and decoder.decoded_length != declared_length:
            raise IncompleteSignature(_LENGTH_DIFFERS)
        _check_trailing_checksums(decoder, computed)

    async for piece in _hold_back_last(decoded(), check):
        yield piece
