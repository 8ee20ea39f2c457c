"""No byte past the forwarded Content-Length (webfed issue 5, finding 4: request smuggling).

The gateway tells the upstream a ``Content-Length`` (the client's, or
``x-amz-decoded-content-length`` for ``aws-chunked``); whatever follows it on the connection the
upstream reads as a new request. Each layer is checked: the aws-chunked decoder stream, the plain
body stream, and the HTTP/1.1 client that writes to the upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.gateway.test_http1 import Handler, Origin, echo_keep_alive
from webfed.core.sigv4 import AwsChunkedDecoder
from webfed.errors import IncompleteBody, IncompleteSignature
from webfed.gateway.body import chunked_body, exact_length
from webfed.gateway.http1 import UpstreamError

SMUGGLED = (
    b"DELETE /game/players/bob/save.json HTTP/1.1\r\nHost: upstream\r\ncontent-length: 0\r\n\r\n"
)


class Source:
    """Pieces of a client body, remembering how many were pulled."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = pieces
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.pulled += 1
            yield piece


def unsigned_chunks(*payloads: bytes) -> list[bytes]:
    """One aws-chunked (unsigned, with trailer) piece per payload, then the final chunk."""
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in payloads] + [b"0\r\n\r\n"]


async def released(stream: AsyncIterator[bytes]) -> tuple[list[bytes], Exception | None]:
    out: list[bytes] = []
    try:
        async for piece in stream:
            out.append(piece)
    except (IncompleteBody, IncompleteSignature) as error:
        return out, error
    return out, None


# --- aws-chunked: the reviewer's reproducer, then variants ------------------------------------


async def test_smuggled_chunk_is_refused_before_release() -> None:
    source = Source(*unsigned_chunks(b"hello", SMUGGLED, b"X"))
    decoder = AwsChunkedDecoder(None, trailer=True)
    out, error = await released(chunked_body(source.__aiter__(), decoder, declared_length=5))
    assert isinstance(error, IncompleteSignature)
    assert out == []  # "hello" was held back, the smuggled bytes never released
    assert source.pulled == 2  # refused on the overflowing piece, not at the end


@pytest.mark.parametrize(
    ("payloads", "declared", "expected"),
    [
        ((b"hello",), 5, [b"hello"]),
        ((b"hel", b"lo"), 5, [b"hel", b"lo"]),
        ((b"hello", b"!"), 5, []),
        ((b"hell",), 5, []),
        ((b"hello world",), 5, []),
    ],
    ids=["exact", "exact-in-two", "one-byte-over", "one-byte-short", "over-in-one-chunk"],
)
async def test_decoded_length_is_enforced_both_ways(
    payloads: tuple[bytes, ...], declared: int, expected: list[bytes]
) -> None:
    decoder = AwsChunkedDecoder(None, trailer=True)
    pieces = Source(*unsigned_chunks(*payloads))
    out, error = await released(chunked_body(pieces.__aiter__(), decoder, declared_length=declared))
    assert out == expected
    assert (error is None) is (sum(map(len, payloads)) == declared)
    assert sum(map(len, out)) <= declared


# --- plain bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pieces", "expected", "ok"),
    [
        ((b"abc", b"de"), 5, True),
        ((b"abc", b"def"), 5, False),
        ((b"hello" + SMUGGLED,), 5, False),
        ((b"ab",), 5, False),
        ((), 0, True),
    ],
    ids=["exact", "over", "smuggled", "short", "empty"],
)
async def test_exact_length(pieces: tuple[bytes, ...], expected: int, ok: bool) -> None:
    source = Source(*pieces)
    out, error = await released(exact_length(source.__aiter__(), expected))
    assert (error is None) is ok
    assert sum(map(len, out)) <= expected
    if error is not None:
        assert isinstance(error, IncompleteBody)
    if ok:
        assert out == list(pieces)


@settings(max_examples=80, deadline=None)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=40), max_size=6),
    expected=st.integers(min_value=0, max_value=150),
)
def test_exact_length_never_releases_a_byte_too_many(pieces: list[bytes], expected: int) -> None:
    out, error = asyncio.run(released(exact_length(Source(*pieces).__aiter__(), expected)))
    assert sum(map(len, out)) <= expected
    assert (error is None) is (sum(map(len, pieces)) == expected)


@settings(max_examples=80, deadline=None)
@given(
    payloads=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=5),
    declared=st.integers(min_value=0, max_value=150),
)
def test_chunked_body_never_releases_past_the_declared_length(
    payloads: list[bytes], declared: int
) -> None:
    decoder = AwsChunkedDecoder(None, trailer=True)
    source = Source(*unsigned_chunks(*payloads))
    stream = chunked_body(source.__aiter__(), decoder, declared_length=declared)
    out, error = asyncio.run(released(stream))
    assert sum(map(len, out)) <= declared
    assert (error is None) is (sum(map(len, payloads)) == declared)


# --- the HTTP/1.1 client: the last line of defence -----------------------------------------------


def recording(seen: list[bytes]) -> Handler:
    """An origin that keeps every byte the client wrote, until the client closes or aborts."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = b""
        try:
            while chunk := await reader.read(65536):
                data += chunk
        finally:
            seen.append(data)

    return handler


async def over(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize(
    ("parts", "length"),
    [((b"hello", SMUGGLED), 5), ((b"hello" + SMUGGLED,), 5), ((b"hel",), 5)],
    ids=["excess-piece", "excess-inside-piece", "short"],
)
async def test_pool_never_writes_past_content_length(parts: tuple[bytes, ...], length: int) -> None:
    seen: list[bytes] = []
    async with Origin(recording(seen)) as origin:
        pool = origin.pool()
        with pytest.raises(UpstreamError):
            await pool.request("PUT", "/k", [("content-length", str(length))], over(*parts))
        await pool.aclose()
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.01)
    (received,) = seen
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"content-length: 5" in head
    assert SMUGGLED not in received
    assert len(body) <= length


async def test_pool_refuses_bytes_bodies_of_the_wrong_length() -> None:
    async with Origin(echo_keep_alive) as origin:
        pool = origin.pool()
        with pytest.raises(UpstreamError):
            await pool.request("PUT", "/", [("content-length", "3")], b"hello")
        assert origin.connections == 0
        await pool.aclose()


async def test_after_a_refused_body_the_connection_is_not_reused() -> None:
    async with Origin(echo_keep_alive) as origin:
        pool = origin.pool()
        ok = await pool.request("PUT", "/", [("content-length", "2")], over(b"ok"))
        assert await ok.read() == b"echo:ok"
        await ok.aclose()
        with pytest.raises(UpstreamError):
            await pool.request("PUT", "/", [("content-length", "2")], over(b"o", b"ver"))
        again = await pool.request("GET", "/", [], b"")
        assert await again.read() == b"echo:"
        await again.aclose()
        assert origin.connections == 2  # the first was reused once, then dropped
        await pool.aclose()
