"""The reviewer's findings on the S3 gateway (webfed issue 5), end to end: a real webfed server,
a real gateway process, a real moto upstream, boto3 and raw HTTP clients.

Alice may read, write and delete under ``alice/`` only. Each test tries to reach Bob's object or
to do more than ``s3:PutObject`` allows, and checks the upstream afterwards.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.integration.test_federation_harness import Federation, federation
from tests.integration.test_gateway_harness import Gateway, MotoServer, game_role
from tests.integration.test_gateway_s3 import (
    BUCKET,
    game_statements,
    servers,
    streaming_headers,
)
from webfed.core import sigv4
from webfed.core.sigv4 import chunk_signature

__all__ = ["federation", "servers"]

VICTIM = "bob/secret.txt"
VICTIM_BODY = b"bob's save"


@pytest.fixture(scope="module")
def alice(federation: Federation, servers: tuple[MotoServer, Gateway]) -> dict[str, Any]:
    game = game_role(federation, game_statements(federation.prefix))
    return game.player("alice")


@pytest.fixture
def upstream(servers: tuple[MotoServer, Gateway]) -> Iterator[Any]:
    """The upstream itself, with Bob's object in place before each test."""
    client = servers[0].client("s3")
    client.put_object(Bucket=BUCKET, Key=VICTIM, Body=VICTIM_BODY)
    yield client


@pytest.fixture
def s3(servers: tuple[MotoServer, Gateway], alice: dict[str, Any]) -> Any:
    return servers[1].client(alice)


def victim_intact(upstream: Any) -> bool:
    return bool(upstream.get_object(Bucket=BUCKET, Key=VICTIM)["Body"].read() == VICTIM_BODY)


def stored(upstream: Any, key: str) -> bool:
    try:
        upstream.head_object(Bucket=BUCKET, Key=key)
    except botocore.exceptions.ClientError:
        return False
    return True


def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return response


# --- finding 3: headers that need more than s3:PutObject ---------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s3, key: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", ACL="public-read"),
        lambda s3, key: s3.put_object(
            Bucket=BUCKET, Key=key, Body=b"x", GrantFullControl='id="someone-else"'
        ),
        lambda s3, key: s3.create_multipart_upload(Bucket=BUCKET, Key=key, ACL="public-read"),
        lambda s3, key: s3.copy_object(
            Bucket=BUCKET,
            Key=key,
            CopySource={"Bucket": BUCKET, "Key": "alice/source.txt"},
            ACL="public-read-write",
        ),
        lambda s3, key: s3.put_object(
            Bucket=BUCKET, Key=key, Body=b"x", ObjectLockLegalHoldStatus="ON"
        ),
    ],
    ids=["put-canned-acl", "put-grant", "multipart-acl", "copy-acl", "put-legal-hold"],
)
def test_acl_and_lock_headers_need_their_own_permission(
    s3: Any, upstream: Any, call: Any, request: pytest.FixtureRequest
) -> None:
    upstream.put_object(Bucket=BUCKET, Key="alice/source.txt", Body=b"source")
    key = f"alice/headers-{request.node.callspec.id}.txt"
    error = refused(lambda: call(s3, key))
    assert error["Error"]["Code"] == "AccessDenied"
    assert not stored(upstream, key)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")  # the same write without the header
    assert stored(upstream, key)


def test_bypassing_governance_needs_its_own_permission(s3: Any, upstream: Any) -> None:
    upstream.put_object(Bucket=BUCKET, Key="alice/locked.txt", Body=b"x")
    error = refused(
        lambda: s3.delete_object(
            Bucket=BUCKET, Key="alice/locked.txt", BypassGovernanceRetention=True
        )
    )
    assert error["Error"]["Code"] == "AccessDenied"
    delete = {"Objects": [{"Key": "alice/locked.txt"}]}
    error = refused(
        lambda: s3.delete_objects(Bucket=BUCKET, Delete=delete, BypassGovernanceRetention=True)
    )
    assert error["Error"]["Code"] == "AccessDenied"
    assert stored(upstream, "alice/locked.txt")


# --- finding 5: the copy source and DeleteObjects keys obey the key rule ---------------------


@pytest.mark.parametrize(
    "source",
    [
        {"Bucket": BUCKET, "Key": "alice/../bob/secret.txt"},
        {"Bucket": BUCKET, "Key": "alice/./../bob/secret.txt"},
    ],
    ids=["dotdot", "dot-and-dotdot"],
)
def test_copy_from_a_dotted_source_is_refused(s3: Any, upstream: Any, source: Any) -> None:
    error = refused(
        lambda: s3.copy_object(Bucket=BUCKET, Key="alice/stolen.txt", CopySource=source)
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidParameterValue"
    assert not stored(upstream, "alice/stolen.txt")


def signed(
    gateway: Gateway,
    credentials: dict[str, Any],
    method: str,
    key: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> tuple[str, dict[str, str]]:
    """URL and headers of a request botocore signed exactly as given (no re-encoding)."""
    url = f"{gateway.url}/{BUCKET}/{key}"
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    secret = credentials["SecretAccessKey"]
    identity = Credentials(credentials["AccessKeyId"], secret, credentials["SessionToken"])
    S3SigV4Auth(identity, "s3", "us-east-1").add_auth(request)
    return url, dict(request.headers.items())


@pytest.mark.parametrize(
    "source",
    [f"{BUCKET}/alice/%2E%2E/bob/secret.txt", f"/{BUCKET}/alice/%2e%2e/bob/secret.txt"],
    ids=["upper", "lower"],
)
def test_copy_from_a_percent_encoded_dotted_source_is_refused(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], upstream: Any, source: str
) -> None:
    headers = {"x-amz-copy-source": source}
    url, signed_headers = signed(servers[1], alice, "PUT", "alice/stolen.txt", headers)
    response = httpx.put(url, headers=signed_headers)
    assert response.status_code == 400, response.text
    assert b"InvalidParameterValue" in response.content
    assert not stored(upstream, "alice/stolen.txt")


@pytest.mark.parametrize(
    "key",
    ["alice/../bob/secret.txt", "alice/./../bob/secret.txt", "alice/.."],
    ids=["dotdot", "dot-and-dotdot", "dotdot-last"],
)
def test_delete_objects_with_a_dotted_key_is_refused(s3: Any, upstream: Any, key: str) -> None:
    error = refused(lambda: s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}]}))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert victim_intact(upstream)


def test_ordinary_copy_and_bulk_delete_still_work(s3: Any, upstream: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="alice/a..b/.c", Body=b"dots inside names")
    s3.copy_object(
        Bucket=BUCKET, Key="alice/copy.txt", CopySource={"Bucket": BUCKET, "Key": "alice/a..b/.c"}
    )
    assert upstream.get_object(Bucket=BUCKET, Key="alice/copy.txt")["Body"].read() == (
        b"dots inside names"
    )
    objects = [{"Key": "alice/copy.txt"}, {"Key": "alice/a..b/.c"}]
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objects})
    assert sorted(item["Key"] for item in result["Deleted"]) == ["alice/a..b/.c", "alice/copy.txt"]
    assert not stored(upstream, "alice/copy.txt")


# --- finding 4: no byte past the forwarded Content-Length reaches the upstream ---------------


def smuggled_delete(upstream_url: str) -> bytes:
    """A whole second request, for the upstream to read after the first one's body."""
    host = upstream_url.removeprefix("http://")
    return (
        f"DELETE /{BUCKET}/{VICTIM} HTTP/1.1\r\nhost: {host}\r\ncontent-length: 0\r\n\r\n"
    ).encode()


def slowly(pieces: list[bytes]) -> Iterator[bytes]:
    """Pieces apart in time, so the gateway receives (and could release) each on its own."""
    for piece in pieces:
        yield piece
        time.sleep(0.2)


def test_aws_chunked_body_longer_than_declared_is_cut_off(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], upstream: Any
) -> None:
    moto, gateway = servers
    key = "alice/smuggle.bin"
    payloads = [b"hello", smuggled_delete(moto.url), b"X"]
    headers, chain = streaming_headers(gateway, alice, key, sigv4.STREAMING_SIGNED, 5)
    pieces = []
    previous = chain.seed_signature
    for payload in [*payloads, b""]:  # every chunk correctly signed: only the length lies
        previous = chunk_signature(chain, previous, payload)
        pieces.append(f"{len(payload):x};chunk-signature={previous}\r\n".encode() + payload)
        pieces[-1] += b"\r\n"
    headers["content-length"] = str(sum(len(piece) for piece in pieces))
    response = httpx.put(f"{gateway.url}/{BUCKET}/{key}", headers=headers, content=slowly(pieces))
    assert response.status_code == 400, response.text
    time.sleep(0.3)  # a smuggled request, had it gone through, would have run by now
    assert victim_intact(upstream)
    assert not stored(upstream, key)


def test_plain_body_cannot_outgrow_its_content_length(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], upstream: Any
) -> None:
    """Both framings at once (RFC 9112 section 6.3 says chunked wins): never forward both."""
    moto, gateway = servers
    key = "alice/framing.bin"
    headers = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "content-length": "5"}
    _, signed_headers = signed(gateway, alice, "PUT", key, headers)
    payload = b"hello" + smuggled_delete(moto.url)
    head = f"PUT /{BUCKET}/{key} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in signed_headers.items()
    )
    head += "transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    body = f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    time.sleep(0.3)
    assert victim_intact(upstream)
    assert not stored(upstream, key)


# --- finding 10: a correct signature over non-ASCII header values is accepted ----------------


@pytest.mark.parametrize("name", ["Zoé", "日本語のセーブ"], ids=["latin-letter", "cjk"])
def test_utf8_metadata_signed_by_the_client_is_accepted_and_stored(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], upstream: Any, name: str
) -> None:
    key = "alice/metadata.txt"
    headers = {"x-amz-meta-player": name, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    url, signed_headers = signed(servers[1], alice, "PUT", key, headers, b"hi")
    wire = {header: value.encode() for header, value in signed_headers.items()}
    response = httpx.put(url, headers=wire, content=b"hi")
    assert response.status_code == 200, response.text
    headers_back = upstream.head_object(Bucket=BUCKET, Key=key)["ResponseMetadata"]["HTTPHeaders"]
    # botocore reads response header bytes as latin-1: undo that to compare the stored bytes
    assert headers_back["x-amz-meta-player"].encode("latin-1") == name.encode()
    tampered = {**wire, "x-amz-meta-player": (name + "!").encode()}
    assert httpx.put(url, headers=tampered, content=b"hi").status_code == 403
