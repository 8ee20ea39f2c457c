"""The streaming, re-signing reverse proxy to the upstream.

One ``httpx.AsyncClient`` per gateway process keeps a pool of connections to the upstream.
Requests are rebuilt from the client's: the client's credentials and signature are removed
(``Authorization``, ``X-Amz-Security-Token``, ``X-Amz-Date``, the presigned ``X-Amz-*`` query
parameters), so are hop-by-hop headers (RFC 9110 section 7.6.1: ``Connection``, ``Keep-Alive``,
``TE``, ``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``…) and ``Expect``; everything else is
passed on unchanged (``Range``, ``If-*``, ``Content-*``, ``x-amz-meta-*``…), then the request is
signed for the upstream (:mod:`webfed.gateway.upstream`). Bodies stream both ways: the response
is relayed to the client as raw bytes (no decompression) as they arrive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

import httpx

from webfed.core.sigv4 import SigningRules
from webfed.core.sigv4.encoding import decode_component
from webfed.errors import ServiceUnavailable
from webfed.gateway.upstream import UpstreamCredentials, sign_upstream
from webfed.logs import get_logger

__all__ = [
    "HOP_BY_HOP",
    "Send",
    "Upstream",
    "forwardable_query",
    "forwarded_request_headers",
    "relay_response",
]

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_log = get_logger("webfed.gateway")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_CLIENT_AUTH = frozenset(
    {
        "authorization",
        "x-amz-security-token",
        "x-amz-date",
        "x-amz-content-sha256",
        "host",
        "expect",
        "content-length",
        "origin",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
    }
)
_PRESIGN_PARAMETERS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
)
_RESPONSE_DROPPED = HOP_BY_HOP | {"server", "date"}


def forwarded_request_headers(
    headers: list[tuple[bytes, bytes]], drop: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The client's headers minus its credentials, hop-by-hop headers and ``drop``."""
    connection_named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    kept: list[tuple[str, str]] = []
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in HOP_BY_HOP or name in _CLIENT_AUTH or name in drop or name in connection_named:
            continue
        kept.append((name, raw_value.decode("latin-1")))
    return kept


def forwardable_query(raw_query: str) -> str:
    """The query string without presigned-URL authentication parameters, otherwise as sent."""
    if "X-Amz-" not in raw_query:
        return raw_query
    return "&".join(
        item
        for item in raw_query.split("&")
        if item and decode_component(item.partition("=")[0]) not in _PRESIGN_PARAMETERS
    )


class Upstream:
    """The upstream service: where it is, how to sign for it, and the connection pool."""

    def __init__(
        self,
        base_url: str,
        credentials: UpstreamCredentials,
        *,
        region: str,
        service: str,
        rules: SigningRules,
        clock: Callable[[], datetime],
        client: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
        max_connections: int = 200,
    ) -> None:
        self._base = httpx.URL(base_url.rstrip("/"))
        if self._base.scheme not in ("http", "https") or not self._base.host:
            raise ValueError("the upstream URL must be http(s)://host[:port]")
        self.host = self._base.netloc.decode("ascii")
        self._credentials = credentials
        self._region = region
        self._service = service
        self._rules = rules
        self._clock = clock
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"Upstream({self._base}, service={self._service}, region={self._region})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        method: str,
        path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: AsyncIterator[bytes] | bytes,
        *,
        payload_hash: str,
    ) -> httpx.Response:
        """Sign and send; the response's body is not read yet (stream it, then close it)."""
        signed = sign_upstream(
            method,
            path,
            raw_query,
            [("host", self.host), *headers],
            payload_hash=payload_hash,
            credentials=self._credentials,
            region=self._region,
            service=self._service,
            rules=self._rules,
            now=self._clock(),
        )
        target = path + (f"?{raw_query}" if raw_query else "")
        request = self._client.build_request(
            method,
            self._base.copy_with(raw_path=target.encode("utf-8", "surrogateescape")),
            headers=signed,
            content=body,
        )
        try:
            return await self._client.send(request, stream=True)
        except httpx.TransportError as error:
            _log.warning("upstream unreachable", error=type(error).__name__)
            raise ServiceUnavailable("The upstream service is unavailable.") from None


async def relay_response(
    response: httpx.Response,
    send: Send,
    *,
    extra_headers: list[tuple[bytes, bytes]],
    head_only: bool = False,
) -> None:
    """Send the upstream's status, headers and raw body to the client, piece by piece."""
    headers = [
        (name, value)
        for name, value in response.headers.raw
        if name.decode("latin-1").lower() not in _RESPONSE_DROPPED
    ]
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": headers + extra_headers,
        }
    )
    try:
        if not head_only:
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        await response.aclose()
    await send({"type": "http.response.body", "body": b"", "more_body": False})
