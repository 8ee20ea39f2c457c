"""One S3 request through the gateway: verify, map, authorize, re-sign, stream.

The order is AWS's: authenticate first (an unsigned or badly signed request learns nothing
about buckets), then map the operation and authorize every check, then forward. The body
flows to the upstream while it is checked (:mod:`webfed.gateway.body`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from webfed.core import sigv4
from webfed.core.sigv4 import AwsChunkedDecoder, ChunkChain
from webfed.core.sigv4.encoding import decode_component, split_query
from webfed.errors import (
    AccessDenied,
    IncompleteBody,
    IncompleteSignature,
    WebfedError,
    XAmzContentSHA256Mismatch,
)
from webfed.gateway.access import GatewayAccess
from webfed.gateway.audit import GatewayRecord
from webfed.gateway.body import (
    Receive,
    chunked_body,
    client_body,
    digest_checked,
    exact_length,
    read_all,
)
from webfed.gateway.checks import AccessCheck, ContextValue
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.proxy import (
    Send,
    Upstream,
    forwardable_query,
    forwarded_request_headers,
    relay_response,
)
from webfed.gateway.s3 import (
    DECIDING_HEADERS,
    S3Operation,
    S3Request,
    bypasses_governance,
    map_s3_request,
)
from webfed.gateway.s3_address import S3Address, locate
from webfed.gateway.s3_delete import MAX_DELETE_BODY, delete_objects_checks
from webfed.verify import VerifiedCaller

__all__ = ["S3_VERIFY_RULES", "S3Gateway", "http_request", "query_parameters", "request_headers"]

S3_VERIFY_RULES = dataclasses.replace(sigv4.S3_RULES, check_declared_payload=False)
"""S3's canonicalisation; the body digest is checked while streaming, not up front."""

_EMPTY_SHA256 = sigv4.hash_payload(b"")
_STREAMING = frozenset(
    {sigv4.STREAMING_SIGNED, sigv4.STREAMING_SIGNED_TRAILER, sigv4.STREAMING_UNSIGNED_TRAILER}
)
_SINGLE_HEADERS = DECIDING_HEADERS | {
    "host",
    "content-length",
    "transfer-encoding",
    "x-amz-decoded-content-length",
    "x-amz-trailer",
}
_CHUNKED_HEADERS = frozenset(
    {"x-amz-decoded-content-length", "x-amz-trailer", "x-amz-sdk-checksum-algorithm"}
)

Scope = MutableMapping[str, Any]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def http_request(scope: Scope) -> sigv4.HttpRequest:
    """The request as received (no body): what SigV4 verification reads.

    Every byte string is read as UTF-8 with ``surrogateescape``, as the main listener reads it
    (``webfed.http.auth``): the canonical request, hashed as UTF-8, then holds exactly the bytes
    the client sent and signed, whatever they are.
    """
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    return sigv4.HttpRequest(
        method=scope["method"],
        raw_path=raw_path.decode("utf-8", "surrogateescape"),
        raw_query=scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
        headers=tuple(
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
            for name, value in scope["headers"]
        ),
    )


def _first(request: sigv4.HttpRequest, name: str) -> str | None:
    values = request.header_values(name)
    return values[0].strip() if values else None


def query_parameters(raw_query: str) -> dict[str, str]:
    """The decoded query; a repeated parameter is refused (servers differ on which one wins)."""
    found: dict[str, str] = {}
    for key, value in split_query(raw_query):
        name = decode_component(key)
        if name in found:
            raise AccessDenied("The gateway refuses a repeated query parameter.")
        found[name] = decode_component(value)
    return found


def request_headers(request: sigv4.HttpRequest) -> dict[str, str]:
    """Lower-case headers; a repeated header that decides authorization is refused."""
    found: dict[str, str] = {}
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in found and lowered in _SINGLE_HEADERS:
            raise AccessDenied(f"The gateway refuses a repeated {lowered} header.")
        found.setdefault(lowered, value.strip())
    return found


@dataclass(frozen=True, slots=True)
class _Payload:
    """How the body was signed: the declared value and, for signed chunks, the chain."""

    declared: str
    chain: ChunkChain | None = None

    @property
    def streaming(self) -> bool:
        return self.declared in _STREAMING


@dataclass(slots=True, eq=False)
class S3Gateway:
    access: GatewayAccess
    upstream: Upstream
    region: str
    cors: CorsPolicy
    virtual_host_suffixes: tuple[str, ...] = ()
    clock: Callable[[], datetime] = _utc_now

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, record: GatewayRecord
    ) -> None:
        request = http_request(scope)
        headers: dict[str, str] = {}
        mapped: tuple[S3Address, S3Operation] | WebfedError
        try:  # mapped first only to name the operation in the audit; refused after auth
            headers = request_headers(request)
            mapped = self._map(request, headers, record)
        except WebfedError as error:
            mapped = error
        caller, payload = self._authenticate(request)
        record.caller = caller
        if isinstance(mapped, WebfedError):
            raise mapped
        address, operation = mapped
        body: AsyncIterator[bytes] | bytes
        checks: tuple[AccessCheck, ...] = operation.checks
        if operation.needs_body and address.bucket is not None:
            body = await self._small_body(receive, payload)
            bypass = bypasses_governance(headers)
            checks = delete_objects_checks(address.bucket, body, bypass_governance=bypass)
        else:
            body = self._body(receive, payload, headers)
        await self.access.authorize(
            caller,
            checks,
            source_ip=_client_ip(scope),
            secure_transport=scope.get("scheme") == "https",
            request_context=_request_context(caller, payload),
        )
        record.status = await self._forward(scope, send, request, address, payload, headers, body)

    def _map(
        self, request: sigv4.HttpRequest, headers: dict[str, str], record: GatewayRecord
    ) -> tuple[S3Address, S3Operation]:
        address = locate(headers.get("host", ""), request.raw_path, self.virtual_host_suffixes)
        query = query_parameters(request.raw_query)
        operation = map_s3_request(
            S3Request(request.method, address.bucket, address.key, query, headers)
        )
        record.operation = operation.name
        if address.bucket is not None:
            record.parameters["bucketName"] = address.bucket
        if address.key is not None:
            record.parameters["key"] = address.key
        return address, operation

    def _authenticate(self, request: sigv4.HttpRequest) -> tuple[VerifiedCaller, _Payload]:
        declared = _first(request, sigv4.CONTENT_SHA256_HEADER)
        if declared is not None and declared in _STREAMING:
            caller, parsed, key = self.access.verify_streaming(
                request, rules=S3_VERIFY_RULES, service="s3", region=self.region, now=self.clock()
            )
            chain = ChunkChain(key, parsed.amz_date, parsed.credential_scope, parsed.signature)
            signed = declared != sigv4.STREAMING_UNSIGNED_TRAILER
            return caller, _Payload(declared, chain if signed else None)
        caller, parsed = self.access.verify(
            request, rules=S3_VERIFY_RULES, service="s3", region=self.region
        )
        if declared is None:
            declared = sigv4.UNSIGNED_PAYLOAD if parsed.presigned else _EMPTY_SHA256
        return caller, _Payload(declared)

    async def _small_body(self, receive: Receive, payload: _Payload) -> bytes:
        if payload.streaming:
            raise IncompleteSignature("A Delete request must not use an aws-chunked body.")
        body = await read_all(receive, MAX_DELETE_BODY)
        if payload.declared != sigv4.UNSIGNED_PAYLOAD and (
            sigv4.hash_payload(body) != payload.declared.lower()
        ):
            raise XAmzContentSHA256Mismatch(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        return body

    def _body(
        self, receive: Receive, payload: _Payload, headers: Mapping[str, str]
    ) -> AsyncIterator[bytes] | bytes:
        if not _has_body(headers):
            unsigned = payload.declared == sigv4.UNSIGNED_PAYLOAD
            empty = payload.declared.lower() == _EMPTY_SHA256
            if not (unsigned or empty or payload.streaming):
                raise XAmzContentSHA256Mismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed."
                )
            return b""
        pieces = client_body(receive)
        if payload.streaming:
            trailer = payload.declared != sigv4.STREAMING_SIGNED
            decoder = AwsChunkedDecoder(payload.chain, trailer=trailer)
            names = tuple(
                name.strip().lower()
                for name in headers.get("x-amz-trailer", "").split(",")
                if name.strip()
            )
            return chunked_body(pieces, decoder, _decoded_length(headers), names)
        length = _content_length(headers)
        if length is not None:  # the upstream is told this length: never a byte more or less
            pieces = exact_length(pieces, length)
        if payload.declared == sigv4.UNSIGNED_PAYLOAD:
            return pieces
        return digest_checked(pieces, payload.declared)

    async def _forward(
        self,
        scope: Scope,
        send: Send,
        request: sigv4.HttpRequest,
        address: S3Address,
        payload: _Payload,
        headers: Mapping[str, str],
        body: AsyncIterator[bytes] | bytes,
    ) -> int:
        drop = _CHUNKED_HEADERS if payload.streaming else frozenset()
        forwarded = forwarded_request_headers(scope["headers"], drop)
        if payload.streaming:
            forwarded = _without_aws_chunked(forwarded)
            length = _decoded_length(headers)
            if length is not None:
                forwarded.append(("content-length", str(length)))
        elif isinstance(body, bytes):
            if body or request.method in ("PUT", "POST"):
                forwarded.append(("content-length", str(len(body))))
        elif (length := _content_length(headers)) is not None:
            forwarded.append(("content-length", str(length)))
        response = await self.upstream.send(
            request.method,
            address.upstream_path,
            forwardable_query(request.raw_query),
            forwarded,
            body,
            payload_hash=sigv4.UNSIGNED_PAYLOAD,
        )
        await relay_response(
            response,
            send,
            extra_headers=self.cors.response_headers(headers.get("origin")),
            head_only=request.method == "HEAD",
        )
        return response.status_code


def _has_body(headers: Mapping[str, str]) -> bool:
    if "transfer-encoding" in headers:
        return True
    length = headers.get("content-length", "0").strip()
    return length.isdigit() and int(length) > 0


def _content_length(headers: Mapping[str, str]) -> int | None:
    """The client's Content-Length, unless ``Transfer-Encoding`` overrides it (RFC 9112
    section 6.3: chunked framing wins, so a Content-Length beside it says nothing)."""
    if "transfer-encoding" in headers:
        return None
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise IncompleteBody("The Content-Length is not a whole number.")
    return int(value)


def _decoded_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("x-amz-decoded-content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise IncompleteSignature("x-amz-decoded-content-length must be a whole number.")
    return int(value)


def _without_aws_chunked(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop ``aws-chunked`` from ``Content-Encoding`` (the upstream gets the decoded body)."""
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name == "content-encoding":
            codings = [c.strip() for c in value.split(",") if c.strip().lower() != "aws-chunked"]
            if codings:
                kept.append((name, ", ".join(codings)))
            continue
        kept.append((name, value))
    return kept


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "0.0.0.0"  # noqa: S104 - a value, not a bind


def _request_context(caller: VerifiedCaller, payload: _Payload) -> dict[str, ContextValue]:
    """S3's request-wide condition keys (authentication type, signature version, payload)."""
    return {
        "s3:authType": "REST-QUERY-STRING" if caller.presigned else "REST-HEADER",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:x-amz-content-sha256": payload.declared,
    }
