"""Non-ASCII header values, byte for byte (webfed issue 5, finding 10).

A client signs the bytes it sends. The main listener (``webfed.http.auth``) reads header bytes as
UTF-8 with ``surrogateescape``, so hashing the canonical request as UTF-8 gives those bytes back;
the gateway must read them the same way (it read them as latin-1, which turns ``é`` into
``Ã©`` and every correct signature over it into ``SignatureDoesNotMatch``), and must forward and
re-sign for the upstream exactly the bytes it received.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.unit.gateway.test_http1 import Origin
from webfed.core import sigv4
from webfed.errors import SignatureDoesNotMatch
from webfed.gateway.proxy import Upstream, forwarded_request_headers
from webfed.gateway.s3_proxy import S3_VERIFY_RULES, http_request, request_headers
from webfed.gateway.upstream import UpstreamCredentials

NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
SECRET = "client-secret-key-0000000000000000000000"
VALUES = [b"plain", "Zoé".encode(), "日本語のセーブ".encode(), "emoji 🎮".encode()]
VALUE_IDS = ["ascii", "latin-letter", "cjk", "astral"]


def botocore_signed(value: bytes) -> list[tuple[bytes, bytes]]:
    """Raw header bytes of a PUT whose ``x-amz-meta-name`` botocore signed as UTF-8 text."""
    request = AWSRequest(method="PUT", url="http://gw/game/k", data=b"")
    request.headers["x-amz-meta-name"] = value.decode()
    request.headers["X-Amz-Content-SHA256"] = sigv4.UNSIGNED_PAYLOAD
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        S3SigV4Auth(Credentials("AKIDCLIENT", SECRET), "s3", "us-east-1").add_auth(request)
    return [
        (n.lower().encode(), v.encode() if isinstance(v, str) else v)
        for n, v in request.headers.items()
    ] + [(b"host", b"gw")]


def scope_of(headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    return {
        "method": "PUT",
        "path": "/game/k",
        "raw_path": b"/game/k",
        "query_string": b"",
        "headers": headers,
    }


@pytest.mark.parametrize("value", VALUES, ids=VALUE_IDS)
def test_gateway_accepts_a_correct_signature_over_utf8_values(value: bytes) -> None:
    request = http_request(scope_of(botocore_signed(value)))
    parsed = sigv4.parse_authorization(request)
    sigv4.verify_signature(request, parsed, SECRET, rules=S3_VERIFY_RULES)
    assert request_headers(request)["x-amz-meta-name"] == value.decode()


def own_signed(value: bytes) -> list[tuple[bytes, bytes]]:
    """Signed over the raw bytes themselves (here not valid UTF-8) with webfed's signer."""
    amz_date = NOW.strftime("%Y%m%dT%H%M%SZ")
    raw = [
        (b"host", b"gw"),
        (b"x-amz-date", amz_date.encode()),
        (b"x-amz-content-sha256", sigv4.UNSIGNED_PAYLOAD.encode()),
        (b"x-amz-meta-name", value),
    ]
    names = "host;x-amz-content-sha256;x-amz-date;x-amz-meta-name"
    credential = f"AKIDCLIENT/{amz_date[:8]}/us-east-1/s3/aws4_request"
    draft = f"{sigv4.ALGORITHM} Credential={credential}, SignedHeaders={names}, Signature=00"
    text = tuple((n.decode(), v.decode("utf-8", "surrogateescape")) for n, v in raw)
    request = sigv4.HttpRequest("PUT", "/game/k", "", (*text, ("authorization", draft)))
    parsed = sigv4.parse_authorization(request)
    signature = sigv4.request_signature(request, parsed, SECRET, rules=S3_VERIFY_RULES)
    return [*raw, (b"authorization", draft.replace("=00", f"={signature}").encode())]


def test_undecodable_bytes_verify_as_the_bytes_themselves() -> None:
    headers = own_signed(b"caf\xe9 \xff")
    request = http_request(scope_of(headers))
    sigv4.verify_signature(
        request, sigv4.parse_authorization(request), SECRET, rules=S3_VERIFY_RULES
    )


def test_a_changed_byte_is_still_refused() -> None:
    headers = [
        (n, v.replace("Zoé".encode(), "Zoè".encode())) for n, v in botocore_signed("Zoé".encode())
    ]
    request = http_request(scope_of(headers))
    with pytest.raises(SignatureDoesNotMatch):
        sigv4.verify_signature(
            request, sigv4.parse_authorization(request), SECRET, rules=S3_VERIFY_RULES
        )


# --- forwarded and re-signed: the upstream receives and verifies the same bytes ---------------


async def forward(value: bytes) -> bytes:
    """What an origin receives when the gateway forwards a request carrying ``value``."""
    captured: list[bytes] = []

    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        captured.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

    async with Origin(origin) as server:
        assert server.server is not None
        port = server.server.sockets[0].getsockname()[1]
        upstream = Upstream(
            f"http://127.0.0.1:{port}",
            UpstreamCredentials("AKIDUPSTREAM", "upstream-secret"),
            region="us-east-1",
            service="s3",
            rules=sigv4.S3_RULES,
            clock=lambda: NOW,
        )
        headers = forwarded_request_headers([(b"x-amz-meta-name", value), (b"host", b"gw")])
        response = await upstream.send(
            "PUT", "/game/k", "", headers, b"", payload_hash=sigv4.UNSIGNED_PAYLOAD
        )
        await response.aclose()
        await upstream.aclose()
    return captured[0]


@pytest.mark.parametrize("value", [*VALUES, b"caf\xe9"], ids=[*VALUE_IDS, "not-utf8"])
async def test_upstream_receives_and_verifies_the_same_bytes(value: bytes) -> None:
    head = await forward(value)
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    method, target, _ = lines[0].split(b" ")
    raw = [tuple(line.split(b": ", 1)) for line in lines[1:]]
    assert (b"x-amz-meta-name", value) in raw
    text = tuple((n.decode(), v.decode("utf-8", "surrogateescape")) for n, v in raw)
    request = sigv4.HttpRequest(method.decode(), target.decode(), "", text)
    parsed = sigv4.parse_authorization(request)
    assert "x-amz-meta-name" in parsed.signed_headers
    sigv4.verify_signature(request, parsed, "upstream-secret", rules=sigv4.S3_RULES)
