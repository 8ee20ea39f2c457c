"""read_body, the one reader of whole request bodies: every chunking, every limit."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive

from webfed.errors import RequestEntityTooLarge, RequestTimeout
from webfed.http.body import read_body


def _receiver(messages: list[Message]) -> tuple[list[Message], Receive]:
    """A ``receive`` handing out ``messages``, then waiting forever (a client that went quiet)."""
    pending = list(messages)
    taken: list[Message] = []

    async def receive() -> Message:
        if not pending:
            await asyncio.sleep(3600)
        message = pending.pop(0)
        taken.append(message)
        return message

    return taken, receive


def _chunked(chunks: list[bytes]) -> list[Message]:
    return [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=64), max_size=12),
    limit=st.integers(min_value=0, max_value=400),
    declare=st.booleans(),
)
def test_whole_body_or_413_at_the_limit(chunks: list[bytes], limit: int, declare: bool) -> None:
    body = b"".join(chunks)
    taken, receive = _receiver(_chunked(chunks))
    declared = str(len(body)) if declare else None

    async def read() -> bytes:
        return await read_body(receive, declared, limit, timeout=5)

    if len(body) > limit:
        with pytest.raises(RequestEntityTooLarge):
            asyncio.run(read())
        if declare:
            assert taken == []  # refused on the declared length, before reading anything
    else:
        assert asyncio.run(read()) == body


@pytest.mark.parametrize(
    "declared",
    ["\u00b2", "\u00b3\u00b9", "1e3", "-5", "0x10", " 12", "", "99999999999999999999999999"],
    ids=[
        "superscript-two",
        "superscripts",
        "exponent",
        "negative",
        "hex",
        "space",
        "empty",
        "huge",
    ],
)
def test_odd_declared_lengths_never_raise_anything_but_the_protocol_errors(declared: str) -> None:
    """Unicode digits (a Latin-1 header byte 0xB2 is '²') are not a number to ``int``; the
    actual body decides then."""
    _, receive = _receiver(_chunked([b"abc"]))

    async def read() -> bytes:
        return await read_body(receive, declared, 100, timeout=5)

    if declared.isascii() and declared.isdigit() and int(declared) > 100:
        with pytest.raises(RequestEntityTooLarge):
            asyncio.run(read())
    else:
        assert asyncio.run(read()) == b"abc"


def test_a_quiet_client_is_408_and_a_gone_one_a_disconnect() -> None:
    _, quiet = _receiver([{"type": "http.request", "body": b"ab", "more_body": True}])
    with pytest.raises(RequestTimeout):
        asyncio.run(read_body(quiet, "10", 100, timeout=0.05))
    _, gone = _receiver(
        [{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}]
    )
    with pytest.raises(ClientDisconnect):
        asyncio.run(read_body(gone, "10", 100, timeout=5))
