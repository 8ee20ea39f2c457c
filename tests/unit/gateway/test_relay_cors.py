"""The gateway answers CORS itself: an upstream's own CORS headers never reach the browser
(two ``Access-Control-Allow-Origin`` values make the browser refuse the response)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from webfed.gateway.proxy import UpstreamResponse, relay_response


class _Upstream:
    status_code = 200
    headers = [
        (b"Access-Control-Allow-Origin", b"*"),
        (b"access-control-expose-headers", b"ETag"),
        (b"ETag", b'"abc"'),
        (b"content-length", b"2"),
    ]

    async def iter_body(self) -> AsyncIterator[bytes]:
        yield b"ok"

    async def aclose(self) -> None:
        return None


async def test_upstream_cors_headers_are_dropped() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    ours = [(b"access-control-allow-origin", b"http://page.example")]
    await relay_response(cast(UpstreamResponse, _Upstream()), send, extra_headers=ours)
    headers = sent[0]["headers"]
    origins = [value for name, value in headers if name.lower() == b"access-control-allow-origin"]
    assert origins == [b"http://page.example"]
    assert (b"ETag", b'"abc"') in headers
    assert not any(name.lower() == b"access-control-expose-headers" for name, _ in headers)
    assert b"".join(message.get("body", b"") for message in sent[1:]) == b"ok"
