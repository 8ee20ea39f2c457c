"""CORS for browser apps calling the gateway with the AWS SDK for JavaScript.

A browser sends a preflight ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``
before a signed call (Fetch Standard, "CORS protocol"). The gateway answers preflights itself,
for the configured origins only, without forwarding them: a preflight carries no signature.
Actual responses get ``Access-Control-Allow-Origin`` and expose the headers the SDK reads
(``ETag``, ``x-amz-*`` request ids and versions). Origins are compared exactly (scheme, host,
port); ``*`` allows any origin, without credentials (the SDK does not send cookies).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CorsPolicy"]

_ALLOWED_METHODS = b"GET, HEAD, PUT, POST, DELETE"
_EXPOSED = (
    b"ETag, x-amz-request-id, x-amz-id-2, x-amz-version-id, x-amz-delete-marker, "
    b"x-amz-server-side-encryption, x-amzn-requestid, x-amz-crc32, content-length, "
    b"content-range, last-modified"
)
_MAX_AGE = b"3000"
_MAX_REQUESTED_HEADERS = 2048

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """The allowed origins (empty: CORS disabled; ``*``: any origin)."""

    origins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, origins: tuple[str, ...] | list[str]) -> CorsPolicy:
        return cls(frozenset(origin.strip().rstrip("/") for origin in origins if origin.strip()))

    def allows(self, origin: str | None) -> bool:
        if origin is None or not self.origins:
            return False
        return "*" in self.origins or origin in self.origins

    def _allow_origin(self, origin: str) -> Headers:
        if "*" in self.origins:
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]

    def preflight(self, origin: str | None, requested_headers: str | None) -> tuple[int, Headers]:
        """Status and headers for an ``OPTIONS`` preflight (403 for an origin not allowed)."""
        if origin is None or not self.allows(origin):
            return 403, [(b"content-length", b"0")]
        headers = self._allow_origin(origin)
        headers.append((b"access-control-allow-methods", _ALLOWED_METHODS))
        if requested_headers and len(requested_headers) <= _MAX_REQUESTED_HEADERS:
            headers.append((b"access-control-allow-headers", requested_headers.encode("latin-1")))
        headers += [
            (b"access-control-max-age", _MAX_AGE),
            (b"access-control-expose-headers", _EXPOSED),
            (b"content-length", b"0"),
        ]
        return 200, headers

    def response_headers(self, origin: str | None) -> Headers:
        """Headers added to an actual response for an allowed origin (none otherwise)."""
        if origin is None or not self.allows(origin):
            return []
        return [*self._allow_origin(origin), (b"access-control-expose-headers", _EXPOSED)]
