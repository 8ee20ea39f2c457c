"""Error bodies as botocore reads them, CORS answers, forwarded headers and body streams."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.parsers import create_parser
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.core import sigv4
from webfed.core.sigv4 import AwsChunkedDecoder
from webfed.errors import (
    AccessDenied,
    ExpiredToken,
    IncompleteSignature,
    InvalidClientTokenId,
    SerializationError,
    SignatureDoesNotMatch,
    WebfedError,
    XAmzContentSHA256Mismatch,
)
from webfed.gateway.body import chunked_body, digest_checked
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.dynamodb_proxy import json_body
from webfed.gateway.errors import dynamodb_error, s3_error_response
from webfed.gateway.proxy import forwardable_query, forwarded_request_headers, request_target
from webfed.gateway.s3_proxy import query_parameters as query_of
from webfed.gateway.s3_proxy import request_headers as headers_of


def parse(protocol: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    response = {
        "status_code": status,
        "headers": {k.decode(): v.decode() for k, v in headers},
        "body": body,
    }
    return create_parser(protocol).parse(response, None)


def key_error(check: str) -> InvalidClientTokenId:
    return InvalidClientTokenId(
        "The security token included in the request is invalid.", explanation={"check": check}
    )


S3_CASES = [
    (AccessDenied("Access Denied"), "AccessDenied", 403),
    (key_error("access-key-id"), "InvalidAccessKeyId", 403),
    (key_error("session-token"), "InvalidToken", 400),
    (SignatureDoesNotMatch("mismatch"), "SignatureDoesNotMatch", 403),
    (ExpiredToken("The security token included in the request is expired"), "ExpiredToken", 400),
    (XAmzContentSHA256Mismatch("digest"), "XAmzContentSHA256Mismatch", 400),
]


@pytest.mark.parametrize(
    ("error", "code", "status"), S3_CASES, ids=[case[1] + str(i) for i, case in enumerate(S3_CASES)]
)
def test_s3_error_bodies_as_botocore_reads_them(error: WebfedError, code: str, status: int) -> None:
    got_status, headers, body = s3_error_response(error, request_id="REQ1", resource="/b/k")
    parsed = parse("rest-xml", got_status, headers, body)
    assert (parsed["Error"]["Code"], got_status) == (code, status)
    assert parsed["ResponseMetadata"]["RequestId"] == "REQ1"


JSON_CASES = [
    (AccessDenied("no"), "AccessDeniedException"),
    (key_error("session-token"), "UnrecognizedClientException"),
    (SignatureDoesNotMatch("bad"), "InvalidSignatureException"),
    (ExpiredToken("expired"), "ExpiredTokenException"),
]


@pytest.mark.parametrize(("error", "code"), JSON_CASES, ids=[case[1] for case in JSON_CASES])
def test_dynamodb_error_bodies_as_botocore_reads_them(error: WebfedError, code: str) -> None:
    status, headers, body = dynamodb_error(error, request_id="REQ2")
    parsed = parse("json", status, headers, body)
    assert parsed["Error"]["Code"] == code
    assert status == 400
    assert parsed["Error"]["Message"] == error.message


def test_denial_message_carries_the_encoded_blob() -> None:
    error = AccessDenied("User: x is not authorized", encoded_message="BLOB")
    _, headers, body = dynamodb_error(error, request_id="R")
    assert (
        "Encoded authorization failure message: BLOB"
        in parse("json", 400, headers, body)["Error"]["Message"]
    )


# --- CORS ---------------------------------------------------------------------------------------


def test_cors_allows_only_configured_origins() -> None:
    policy = CorsPolicy.of(["https://game.example/", " "])
    status, headers = policy.preflight("https://game.example", "authorization,x-amz-date")
    assert status == 200
    assert (b"access-control-allow-origin", b"https://game.example") in headers
    assert (b"access-control-allow-headers", b"authorization,x-amz-date") in headers
    assert policy.preflight("https://evil.example", None)[0] == 403
    assert policy.preflight(None, None)[0] == 403
    assert policy.response_headers("https://evil.example") == []
    assert CorsPolicy.of([]).response_headers("https://game.example") == []


def test_cors_wildcard() -> None:
    policy = CorsPolicy.of(["*"])
    assert (b"access-control-allow-origin", b"*") in policy.response_headers("https://any.example")


# --- forwarding -----------------------------------------------------------------------------------


def test_forwarded_headers_drop_credentials_and_hop_by_hop() -> None:
    headers = [
        (b"Host", b"gw"),
        (b"Authorization", b"AWS4-HMAC-SHA256 ..."),
        (b"X-Amz-Security-Token", b"secret-token"),
        (b"X-Amz-Date", b"20260101T000000Z"),
        (b"Connection", b"keep-alive, X-Private"),
        (b"X-Private", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Expect", b"100-continue"),
        (b"Range", b"bytes=0-1"),
        (b"If-None-Match", b'"etag"'),
        (b"x-amz-meta-color", b"blue"),
        (b"Content-Type", b"text/plain"),
    ]
    kept = forwarded_request_headers(headers)
    assert kept == [
        ("range", "bytes=0-1"),
        ("if-none-match", '"etag"'),
        ("x-amz-meta-color", "blue"),
        ("content-type", "text/plain"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("list-type=2&prefix=a%2Fb", "list-type=2&prefix=a%2Fb"),
        ("X-Amz-Algorithm=x&X-Amz-Credential=c&uploads&X-Amz-Signature=s", "uploads"),
        ("versionId=v&X-Amz-Security-Token=t&X%2DAmz%2DDate=d", "versionId=v"),
    ],
    ids=["empty", "plain", "presigned", "encoded-names"],
)
def test_forwardable_query(query: str, expected: str) -> None:
    assert forwardable_query(query) == expected


# --- body streams -------------------------------------------------------------------------------


async def source(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        await asyncio.sleep(0)
        yield piece


async def drain(stream: AsyncIterator[bytes], into: list[bytes]) -> None:
    async for piece in stream:
        into.append(piece)


async def test_digest_checked_passes_a_matching_body() -> None:
    pieces = [b"ab", b"", b"cd", b"e"]
    out: list[bytes] = []
    await drain(digest_checked(source(pieces), hashlib.sha256(b"abcde").hexdigest().upper()), out)
    assert b"".join(out) == b"abcde"


async def test_digest_checked_withholds_the_last_piece_on_mismatch() -> None:
    out: list[bytes] = []
    with pytest.raises(XAmzContentSHA256Mismatch):
        await drain(
            digest_checked(source([b"ab", b"cd", b"ef"]), hashlib.sha256(b"x").hexdigest()), out
        )
    assert b"".join(out) == b"abcd"  # "ef" never left: the upstream never gets the whole body


async def test_chunked_body_checks_length_and_trailing_checksum() -> None:
    body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
    out: list[bytes] = []
    decoder = AwsChunkedDecoder(None, trailer=True)
    await drain(chunked_body(source([body]), decoder, 5, ("x-amz-checksum-crc32",)), out)
    assert b"".join(out) == b"hello"
    with pytest.raises(IncompleteSignature):
        await drain(chunked_body(source([body]), AwsChunkedDecoder(None, trailer=True), 6), [])
    wrong = body.replace(b"NhCmhg==", b"AAAAAA==")
    with pytest.raises(IncompleteSignature):
        await drain(
            chunked_body(
                source([wrong]), AwsChunkedDecoder(None, trailer=True), 5, ("x-amz-checksum-crc32",)
            ),
            [],
        )


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=2000),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
)
def test_digest_checked_any_split(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    out: list[bytes] = []
    asyncio.run(drain(digest_checked(source(pieces), sigv4.hash_payload(data)), out))
    assert b"".join(out) == data


# --- ambiguity the upstream could read differently ------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"TableName": "T", "Key": {"p": {"S": "a"}}, "Key": {"p": {"S": "b"}}}',
        b'{"Key": {"p": {"S": "a"}, "p": {"S": "b"}}}',
    ],
    ids=["top-level", "nested"],
)
def test_repeated_json_members_are_refused(body: bytes) -> None:
    with pytest.raises(SerializationError):
        json_body(body)


@pytest.mark.parametrize(
    "body", [b"[1]", b"{", b"\xff", b"[" * 100_000], ids=["array", "truncated", "not-utf8", "deep"]
)
def test_bad_json_bodies_are_serialization_errors(body: bytes) -> None:
    with pytest.raises(SerializationError):
        json_body(body)


def test_repeated_query_parameters_and_decisive_headers_are_refused() -> None:
    with pytest.raises(AccessDenied):
        query_of("prefix=alice%2F&list-type=2&prefix=bob%2F")
    request = sigv4.HttpRequest(
        "PUT", "/b/k", "", (("x-amz-copy-source", "b/a"), ("X-Amz-Copy-Source", "b/other"))
    )
    with pytest.raises(AccessDenied):
        headers_of(request)
    assert headers_of(
        sigv4.HttpRequest("GET", "/", "", (("x-amz-meta-a", "1"), ("x-amz-meta-a", "2")))
    ) == {"x-amz-meta-a": "1"}


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/b/a%20b", "x=1", "/b/a%20b?x=1"),
        ("/b/é k", "", "/b/%C3%A9%20k"),
        ("/b/k", "p=\udcff", "/b/k?p=%FF"),
    ],
    ids=["already-encoded", "raw-utf8-and-space", "raw-byte"],
)
def test_request_target_is_safe_for_the_request_line(path: str, query: str, expected: str) -> None:
    assert request_target(path, query) == expected
