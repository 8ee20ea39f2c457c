"""The streaming, re-signing reverse proxy to the upstream.

One :class:`~webfed.gateway.http1.Http1Pool` per gateway process keeps keep-alive connections
to the upstream.
Requests are rebuilt from the client's: the client's credentials and signature are removed
(``Authorization``, ``X-Amz-Security-Token``, ``X-Amz-Date``, the presigned ``X-Amz-*`` query
parameters), so are hop-by-hop headers (RFC 9110 section 7.6.1: ``Connection``, ``Keep-Alive``,
``TE``, ``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``…) and ``Expect``; everything else is
passed on unchanged (``Range``, ``If-*``, ``Content-*``, ``x-amz-meta-*``…), then the request is
signed for the upstream (:mod:`webfed.gateway.upstream`). Bodies stream both ways: the response
is relayed to the client as raw bytes (no decompression) as they arrive.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

from webfed.core.sigv4 import SigningRules
from webfed.core.sigv4.encoding import decode_component, wire_bytes
from webfed.errors import ServiceUnavailable
from webfed.gateway import metrics
from webfed.gateway.http1 import Http1Pool, UpstreamError, UpstreamResponse
from webfed.gateway.upstream import UpstreamCredentials, sign_upstream
from webfed.logs import get_logger

__all__ = [
    "HOP_BY_HOP",
    "Send",
    "Upstream",
    "forwardable_query",
    "forwarded_request_headers",
    "relay_response",
    "request_target",
    "upstream_origin",
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
_PRINTABLE = "".join(chr(code) for code in range(0x21, 0x7F))  # "%" too: escapes are kept


def forwarded_request_headers(
    headers: list[tuple[bytes, bytes]], drop: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The client's headers minus its credentials, hop-by-hop headers and ``drop``.

    Values are text as :func:`webfed.core.sigv4.encoding.wire_bytes` turns back into the bytes
    received (UTF-8, undecodable bytes kept by ``surrogateescape``).
    """
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
        # Read as the verifier reads them, so the upstream signature (hashed as UTF-8) and the
        # request head (written with wire_bytes) both carry the client's exact bytes.
        kept.append((name, raw_value.decode("utf-8", "surrogateescape")))
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


def upstream_origin(url: str) -> tuple[str, str, int, str]:
    """Scheme, host name, port and ``host[:port]`` of an ``http(s)://host[:port]`` URL."""
    try:
        parts = urlsplit(url.rstrip("/"))
        port = parts.port
    except ValueError:
        raise ValueError("the upstream URL must be http(s)://host[:port]") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValueError("the upstream URL must be http(s)://host[:port]")
    default_port = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default_port, parts.netloc


def request_target(path: str, raw_query: str) -> str:
    """Path and query for the request line: bytes outside printable ASCII percent-encoded.

    Existing ``%XY`` escapes are kept, so the target means what the client sent (and what was
    signed: SigV4 canonicalisation decodes and re-encodes the same way).
    """
    target = path + (f"?{raw_query}" if raw_query else "")
    if target.isascii() and target.isprintable() and " " not in target:
        return target
    return quote_from_bytes(wire_bytes(target), safe=_PRINTABLE)


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
        timeout: float = 60.0,
        max_idle: int = 64,
    ) -> None:
        scheme, hostname, port, self.host = upstream_origin(base_url)
        self._base = f"{scheme}://{self.host}"
        self._pool = Http1Pool(scheme, hostname, port, read_timeout=timeout, max_idle=max_idle)
        self._credentials = credentials
        self._region = region
        self._service = service
        self._rules = rules
        self._clock = clock

    def __repr__(self) -> str:
        return f"Upstream({self._base}, service={self._service}, region={self._region})"

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def send(
        self,
        method: str,
        path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: AsyncIterator[bytes] | bytes,
        *,
        payload_hash: str,
    ) -> UpstreamResponse:
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
        target = request_target(path, raw_query)
        began = time.perf_counter()
        try:
            response = await self._pool.request(method, target, signed, body)
        except UpstreamError as error:
            metrics.observe_upstream_error(self._service)
            _log.warning("upstream unreachable", error=str(error))
            raise ServiceUnavailable("The upstream service is unavailable.") from None
        metrics.observe_upstream(self._service, time.perf_counter() - began, response.status_code)
        return response


async def relay_response(
    response: UpstreamResponse,
    send: Send,
    *,
    extra_headers: list[tuple[bytes, bytes]],
    head_only: bool = False,
) -> None:
    """Send the upstream's status, headers and raw body to the client, piece by piece."""
    # The gateway answers CORS itself (``extra_headers``); an upstream's own CORS headers would
    # duplicate ``Access-Control-Allow-Origin``, which browsers refuse.
    headers = [
        (name, value)
        for name, value in response.headers
        if (lowered := name.decode("latin-1").lower()) not in _RESPONSE_DROPPED
        and not lowered.startswith("access-control-")
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
            async for chunk in response.iter_body():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        await response.aclose()
    await send({"type": "http.response.body", "body": b"", "more_body": False})
