"""The S3 gateway end to end: the mobile game's per-player prefixes through boto3 and the AWS
CLI, a real webfed server, a real gateway process and a real moto upstream."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import botocore.exceptions
import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from tests.integration.test_federation_harness import Federation, federation
from tests.integration.test_gateway_harness import (
    ORIGIN,
    Game,
    Gateway,
    MotoServer,
    expired_credentials,
    game_role,
    module_servers,
    tampered,
)
from webfed.core import sigv4
from webfed.core.sigv4 import ChunkChain, chunk_signature

__all__ = ["federation"]

BUCKET = "game"
VIRTUAL_HOST = "s3.gateway.test"


def game_statements(prefix: str) -> list[dict[str, Any]]:
    """The identity-pool example policy (Cognito Developer Guide), keyed by ``<provider>:sub``."""
    sub = "${" + prefix + ":sub}"
    return [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [f"{sub}/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/{sub}/*",
        },
    ]


@pytest.fixture(scope="module")
def servers(
    federation: Federation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MotoServer, Gateway]]:
    tmp = tmp_path_factory.mktemp("gateway-s3")
    for pair in module_servers(federation, tmp, "s3", "--virtual-host-suffix", VIRTUAL_HOST):
        pair[0].client("s3").create_bucket(Bucket=BUCKET)
        yield pair


@pytest.fixture(scope="module")
def game(federation: Federation, servers: tuple[MotoServer, Gateway]) -> Game:
    return game_role(federation, game_statements(federation.prefix))


@pytest.fixture(scope="module")
def alice(game: Game) -> dict[str, Any]:
    return game.player("alice")


@pytest.fixture(scope="module")
def s3(servers: tuple[MotoServer, Gateway], alice: dict[str, Any]) -> Any:
    return servers[1].client(alice)


def code_of(caught: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


# --- own data allowed, another player's denied ---------------------------------------------------


def test_own_object_round_trip(s3: Any, servers: tuple[MotoServer, Gateway]) -> None:
    s3.put_object(Bucket=BUCKET, Key="alice/save.json", Body=b'{"level": 3}')
    assert s3.get_object(Bucket=BUCKET, Key="alice/save.json")["Body"].read() == b'{"level": 3}'
    upstream = servers[0].client("s3").get_object(Bucket=BUCKET, Key="alice/save.json")
    assert upstream["Body"].read() == b'{"level": 3}'
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="alice/")
    assert [item["Key"] for item in listed["Contents"]] == ["alice/save.json"]
    s3.delete_object(Bucket=BUCKET, Key="alice/save.json")


@pytest.mark.parametrize(
    "call",
    [
        lambda s3: s3.get_object(Bucket=BUCKET, Key="bob/save.json"),
        lambda s3: s3.put_object(Bucket=BUCKET, Key="bob/save.json", Body=b"x"),
        lambda s3: s3.delete_object(Bucket=BUCKET, Key="bob/save.json"),
        lambda s3: s3.list_objects_v2(Bucket=BUCKET, Prefix="bob/"),
        lambda s3: s3.list_objects_v2(Bucket=BUCKET),
        lambda s3: s3.head_object(Bucket=BUCKET, Key="bob/save.json"),
        lambda s3: s3.list_buckets(),
        lambda s3: s3.delete_bucket(Bucket=BUCKET),
        lambda s3: s3.copy_object(
            Bucket=BUCKET, Key="alice/stolen.json", CopySource={"Bucket": BUCKET, "Key": "bob/k"}
        ),
    ],
    ids=[
        "get-other",
        "put-other",
        "delete-other",
        "list-other-prefix",
        "list-whole-bucket",
        "head-other",
        "list-buckets",
        "delete-bucket",
        "copy-from-other",
    ],
)
def test_other_players_data_is_denied(s3: Any, call: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(s3)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403, error
    if "Code" in error["Error"] and error["Error"]["Code"] != "403":  # HEAD has no body
        assert error["Error"]["Code"] == "AccessDenied"
        assert "Encoded authorization failure message" in error["Error"]["Message"]


def test_denial_decodes_for_the_administrator(federation: Federation, s3: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="bob/save.json")
    message = caught.value.response["Error"]["Message"]
    blob = message.split("Encoded authorization failure message: ", 1)[1].strip()
    decoded = federation.decode(blob)
    assert decoded["context"]["action"] == "s3:GetObject"
    assert decoded["context"]["resource"] == f"arn:aws:s3:::{BUCKET}/bob/save.json"


def test_every_request_is_audited(federation: Federation, s3: Any) -> None:
    """A CloudTrail-shaped data event per request, the refusal's code included."""
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_object(Bucket=BUCKET, Key="bob/audited.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    env["WEBFED_DATA_DIR"] = str(federation.server.data_dir)
    if federation.server.database_url:
        env["WEBFED_DATABASE_URL"] = federation.server.database_url
    command = [sys.executable, "-m", "webfed", "audit", "tail", "--json", "--errors", "-n", "200"]
    deadline = time.monotonic() + 10
    while True:
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        events = [json.loads(line) for line in output.stdout.splitlines() if line.strip()]
        found = [
            event
            for event in events
            if event.get("eventSource") == "s3.amazonaws.com"
            and (event.get("requestParameters") or {}).get("key") == "bob/audited.json"
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert found, output.stdout[-2000:]
    event = found[-1]
    assert event["eventName"] == "GetObject"
    assert event["errorCode"] == "AccessDenied"
    assert event["userIdentity"]["type"] == "AssumedRole"
    assert event["requestParameters"]["bucketName"] == BUCKET


def test_copy_within_own_prefix(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="alice/a.txt", Body=b"copy me")
    s3.copy_object(
        Bucket=BUCKET, Key="alice/b.txt", CopySource={"Bucket": BUCKET, "Key": "alice/a.txt"}
    )
    assert s3.get_object(Bucket=BUCKET, Key="alice/b.txt")["Body"].read() == b"copy me"


def test_large_object_streams_through_multipart(s3: Any, tmp_path: Any) -> None:
    payload = hashlib.sha256(b"seed").digest() * (12 * 1024 * 1024 // 32)
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    s3.upload_file(str(source), BUCKET, "alice/big.bin", Config=config)
    target = tmp_path / "back.bin"
    s3.download_file(BUCKET, "alice/big.bin", str(target), Config=config)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(payload).digest()


def test_range_request_passes_through(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="alice/range.txt", Body=b"0123456789")
    part = s3.get_object(Bucket=BUCKET, Key="alice/range.txt", Range="bytes=2-5")
    assert part["Body"].read() == b"2345"
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206


def test_presigned_url(servers: tuple[MotoServer, Gateway], alice: dict[str, Any]) -> None:
    s3 = servers[1].client(alice, signature_version="s3v4")
    s3.put_object(Bucket=BUCKET, Key="alice/shared.txt", Body=b"presigned")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "alice/shared.txt"}, ExpiresIn=60
    )
    assert httpx.get(url).content == b"presigned"
    other = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "bob/x"}, ExpiresIn=60
    )
    assert httpx.get(other).status_code == 403


def test_signature_version_2_is_refused(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "alice/shared.txt"}, ExpiresIn=60
    )
    if "X-Amz-Signature" in url:
        pytest.skip("this botocore presigns with SigV4 by default")
    assert httpx.get(url).status_code == 403


def test_virtual_hosted_style(servers: tuple[MotoServer, Gateway], alice: dict[str, Any]) -> None:
    """``BUCKET.s3.gateway.test``: signed by botocore for that host, sent to 127.0.0.1."""
    port = servers[1].port
    credentials = Credentials(alice["AccessKeyId"], alice["SecretAccessKey"], alice["SessionToken"])
    responses = []
    for key, body in (("alice/vhost.txt", b"virtual"), ("bob/vhost.txt", b"nope")):
        virtual = f"http://{BUCKET}.{VIRTUAL_HOST}:{port}/{key}"
        signed = AWSRequest(method="PUT", url=virtual, data=body)
        S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(signed)
        headers = {**dict(signed.headers.items()), "Host": f"{BUCKET}.{VIRTUAL_HOST}:{port}"}
        responses.append(httpx.put(f"http://127.0.0.1:{port}/{key}", headers=headers, content=body))
    assert [r.status_code for r in responses] == [200, 403]
    stored = servers[0].client("s3").get_object(Bucket=BUCKET, Key="alice/vhost.txt")
    assert stored["Body"].read() == b"virtual"


# --- credentials refused ----------------------------------------------------------------------


def test_expired_credentials_are_refused(
    federation: Federation, servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    client = servers[1].client(expired_credentials(federation, alice))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.get_object(Bucket=BUCKET, Key="alice/save.json")
    assert code_of(caught) == "ExpiredToken"


def test_tampered_session_token_is_refused(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    client = servers[1].client(tampered(alice))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.put_object(Bucket=BUCKET, Key="alice/x", Body=b"x")
    assert code_of(caught) in ("InvalidToken", "InvalidAccessKeyId")


def test_wrong_secret_is_signature_mismatch(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    client = servers[1].client({**alice, "SecretAccessKey": "wrong" + alice["SecretAccessKey"]})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.put_object(Bucket=BUCKET, Key="alice/x", Body=b"x")
    assert code_of(caught) == "SignatureDoesNotMatch"


def test_unsigned_request_is_denied(servers: tuple[MotoServer, Gateway]) -> None:
    response = httpx.get(f"{servers[1].url}/{BUCKET}/alice/save.json")
    assert response.status_code == 403
    assert b"<Code>AccessDenied</Code>" in response.content


# --- policies: session policy, live role-policy change --------------------------------------------


def test_session_policy_narrows_the_role(game: Game, servers: tuple[MotoServer, Gateway]) -> None:
    read_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    credentials = game.player("carol", Policy=json.dumps(read_only))
    client = servers[1].client(credentials)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.put_object(Bucket=BUCKET, Key="carol/save.json", Body=b"x")
    assert code_of(caught) == "AccessDenied"
    servers[0].client("s3").put_object(Bucket=BUCKET, Key="carol/save.json", Body=b"ok")
    assert client.get_object(Bucket=BUCKET, Key="carol/save.json")["Body"].read() == b"ok"


def test_role_policy_change_reaches_live_sessions(
    federation: Federation, servers: tuple[MotoServer, Gateway]
) -> None:
    game = game_role(federation, game_statements(federation.prefix))
    client = servers[1].client(game.player("dave"))
    client.put_object(Bucket=BUCKET, Key="dave/save.json", Body=b"1")
    statements = game_statements(federation.prefix)
    statements[1]["Action"] = ["s3:GetObject"]
    game.set_policy({"Version": "2012-10-17", "Statement": statements})

    def put_is_denied() -> None:
        try:
            client.put_object(Bucket=BUCKET, Key="dave/save.json", Body=b"2")
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDenied"
            return
        raise AssertionError("the live session may still write")

    federation.wait_for_iam(put_is_denied)
    # Writes made before the change reached the gateway may have landed; reads still work.
    assert client.get_object(Bucket=BUCKET, Key="dave/save.json")["Body"].read() in (b"1", b"2")


# --- the AWS CLI ------------------------------------------------------------------------------


def test_aws_cli_own_prefix_and_denial(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], tmp_path: Any
) -> None:
    gateway = servers[1]
    source = tmp_path / "cli.txt"
    source.write_text("from the cli")
    copied = gateway.aws(alice, "s3", "cp", str(source), f"s3://{BUCKET}/alice/cli.txt")
    assert copied.returncode == 0, copied.stderr
    listed = gateway.aws(alice, "s3", "ls", f"s3://{BUCKET}/alice/")
    assert listed.returncode == 0, listed.stderr
    assert "cli.txt" in listed.stdout
    denied = gateway.aws(alice, "s3", "cp", str(source), f"s3://{BUCKET}/bob/cli.txt")
    assert denied.returncode != 0
    assert "AccessDenied" in denied.stderr


# --- aws-chunked uploads (the AWS SDKs for Java and JavaScript sign chunks) -------------------


def streaming_headers(
    gateway: Gateway,
    credentials: dict[str, Any],
    key: str,
    declared: str,
    decoded_length: int,
    extra: tuple[tuple[str, str], ...] = (),
) -> tuple[dict[str, str], ChunkChain]:
    """Headers of an aws-chunked PUT, signed the way an SDK signs them, and the chunk chain."""
    amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    headers = [
        ("host", f"127.0.0.1:{gateway.port}"),
        ("x-amz-date", amz_date),
        ("x-amz-security-token", credentials["SessionToken"]),
        ("x-amz-content-sha256", declared),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", str(decoded_length)),
        *extra,
    ]
    names = ";".join(sorted(name for name, _ in headers))
    credential = f"{credentials['AccessKeyId']}/{scope}"
    draft = f"{sigv4.ALGORITHM} Credential={credential}, SignedHeaders={names}, Signature=00"
    request = sigv4.HttpRequest("PUT", f"/{BUCKET}/{key}", "", (*headers, ("authorization", draft)))
    parsed = sigv4.parse_authorization(request)
    secret = credentials["SecretAccessKey"]
    seed = sigv4.request_signature(request, parsed, secret, rules=sigv4.S3_RULES)
    key_bytes = sigv4.derive_signing_key(secret, amz_date[:8], "us-east-1", "s3")
    final = dict(headers)
    final["authorization"] = draft.replace("Signature=00", f"Signature={seed}")
    return final, ChunkChain(key_bytes, amz_date, scope, seed)


def chunked_put(
    gateway: Gateway, credentials: dict[str, Any], key: str, pieces: list[bytes], tamper: bool
) -> httpx.Response:
    payload = b"".join(pieces)
    headers, chain = streaming_headers(
        gateway, credentials, key, sigv4.STREAMING_SIGNED, len(payload)
    )
    body = bytearray()
    previous = chain.seed_signature
    for piece in [*pieces, b""]:
        previous = chunk_signature(chain, previous, piece)
        body += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece + b"\r\n"
    if tamper:
        body[len(body) // 3] ^= 1
    return httpx.put(f"{gateway.url}/{BUCKET}/{key}", headers=headers, content=bytes(body))


@pytest.mark.parametrize("corrupt", [False, True], ids=["intact", "wrong-checksum"])
def test_unsigned_trailer_upload_as_boto3_sends_it_over_https(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any], corrupt: bool
) -> None:
    """``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` with a CRC32 trailer, made by botocore itself."""
    payload = bytes(range(256)) * 200
    key = f"alice/trailer-{corrupt}.bin"
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload), Crc32Checksum, "x-amz-checksum-crc32", chunk_size=8192
    )
    body = wrapper.read()
    if corrupt:  # the same trailer, carrying the CRC32 of other bytes
        right, wrong = Crc32Checksum(), Crc32Checksum()
        right.update(payload)
        wrong.update(b"other bytes")
        body = body.replace(right.b64digest().encode(), wrong.b64digest().encode())
    headers, _ = streaming_headers(
        servers[1],
        alice,
        key,
        sigv4.STREAMING_UNSIGNED_TRAILER,
        len(payload),
        (("x-amz-trailer", "x-amz-checksum-crc32"),),
    )
    response = httpx.put(f"{servers[1].url}/{BUCKET}/{key}", headers=headers, content=body)
    upstream = servers[0].client("s3")
    if not corrupt:
        assert response.status_code == 200, response.text
        assert upstream.get_object(Bucket=BUCKET, Key=key)["Body"].read() == payload
        return
    assert response.status_code == 400
    with pytest.raises(botocore.exceptions.ClientError):
        upstream.head_object(Bucket=BUCKET, Key=key)


def test_signed_chunks_are_decoded_and_stored(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    pieces = [b"a" * 65536, b"b" * 1000]
    response = chunked_put(servers[1], alice, "alice/chunked.bin", pieces, tamper=False)
    assert response.status_code == 200, response.text
    stored = servers[0].client("s3").get_object(Bucket=BUCKET, Key="alice/chunked.bin")
    assert stored["Body"].read() == b"".join(pieces)


def test_tampered_chunk_is_refused_and_not_stored(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    response = chunked_put(servers[1], alice, "alice/tampered.bin", [b"c" * 70000], tamper=True)
    assert response.status_code == 403
    assert b"SignatureDoesNotMatch" in response.content
    upstream = servers[0].client("s3")
    with pytest.raises(botocore.exceptions.ClientError):
        upstream.head_object(Bucket=BUCKET, Key="alice/tampered.bin")


def test_tampered_body_is_not_stored(
    servers: tuple[MotoServer, Gateway], alice: dict[str, Any]
) -> None:
    """Signed for one body (its SHA-256 in x-amz-content-sha256), sent with another."""
    url = f"{servers[1].url}/{BUCKET}/alice/corrupt.txt"
    signed = AWSRequest(method="PUT", url=url, data=b"X" * 200_000)
    credentials = Credentials(alice["AccessKeyId"], alice["SecretAccessKey"], alice["SessionToken"])
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(signed)
    headers = dict(signed.headers.items())
    response = httpx.put(url, headers=headers, content=b"Y" * 200_000)
    assert response.status_code == 400
    assert b"XAmzContentSHA256Mismatch" in response.content
    with pytest.raises(botocore.exceptions.ClientError):
        servers[0].client("s3").head_object(Bucket=BUCKET, Key="alice/corrupt.txt")


# --- CORS ---------------------------------------------------------------------------------------


def test_cors_preflight_and_response(servers: tuple[MotoServer, Gateway], s3: Any) -> None:
    url = f"{servers[1].url}/{BUCKET}/alice/save.json"
    preflight = httpx.options(
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-security-token",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "x-amz-security-token" in preflight.headers["access-control-allow-headers"]
    refused = httpx.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    unsigned = httpx.get(url, headers={"Origin": ORIGIN})
    assert unsigned.headers["access-control-allow-origin"] == ORIGIN
