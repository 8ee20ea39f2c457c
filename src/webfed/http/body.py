"""Reading a request's body whole: bounded in size and in time, as every endpoint must.

Used by the AWS endpoints (``dispatch``), the development identity provider's forms and the
demo's relays, so that each refuses an oversize or late body the same way.
"""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from webfed.errors import RequestEntityTooLarge, RequestTimeout

__all__ = ["read_body"]


async def read_body(receive: Receive, declared: str | None, limit: int, timeout: float) -> bytes:
    """The whole body, at most ``limit`` bytes, arriving within ``timeout`` seconds.

    ``declared`` is the ``Content-Length`` header. A client that disconnects first raises
    Starlette's ``ClientDisconnect``, as ``Request.stream`` does."""
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise RequestEntityTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                if message["type"] != "http.request":
                    continue
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise RequestEntityTooLarge(f"Request body exceeds the limit of {limit} bytes.")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise RequestTimeout(
            f"The request body did not arrive within {timeout:g} seconds."
        ) from None
    return b"".join(chunks)
