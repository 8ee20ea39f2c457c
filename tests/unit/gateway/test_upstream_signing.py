"""Outbound signing: checked against botocore's signer and against webfed's own verifier."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from webfed.core import sigv4
from webfed.gateway.upstream import UpstreamCredentials, sign_upstream

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CREDENTIALS = UpstreamCredentials("AKIDUPSTREAM", "upstream-secret", "upstream-token")

CASES = [
    ("s3", "PUT", "/game/p1/a%20b.txt", "x-id=PutObject", sigv4.UNSIGNED_PAYLOAD),
    ("s3", "GET", "/game", "list-type=2&prefix=p1%2F&delimiter=%2F", sigv4.UNSIGNED_PAYLOAD),
    ("s3", "GET", "/game/a%2Bb/%E2%82%AC", "", sigv4.UNSIGNED_PAYLOAD),
    ("dynamodb", "POST", "/", "", hashlib.sha256(b'{"TableName":"t"}').hexdigest()),
]


def ours(service: str, method: str, path: str, query: str, payload: str) -> dict[str, str]:
    rules = sigv4.S3_RULES if service == "s3" else sigv4.STANDARD_RULES
    headers = [("host", "upstream:9000"), ("content-type", "application/x-amz-json-1.0")]
    signed = sign_upstream(
        method,
        path,
        query,
        headers,
        payload_hash=payload,
        credentials=CREDENTIALS,
        region="eu-west-1",
        service=service,
        rules=rules,
        now=NOW,
    )
    return dict(signed)


def botocore_signature(service: str, method: str, path: str, query: str, body: bytes) -> str:
    url = f"http://upstream:9000{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body)
    request.headers["Content-Type"] = "application/x-amz-json-1.0"
    creds = Credentials("AKIDUPSTREAM", "upstream-secret", "upstream-token")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        if service == "s3":
            request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
            request.headers["X-Amz-Content-SHA256"] = sigv4.UNSIGNED_PAYLOAD
            S3SigV4Auth(creds, "s3", "eu-west-1").add_auth(request)
        else:
            SigV4Auth(creds, service, "eu-west-1").add_auth(request)
    return str(request.headers["Authorization"]).rsplit("Signature=", 1)[1]


@pytest.mark.parametrize(
    ("service", "method", "path", "query", "payload"),
    CASES,
    ids=["s3-put", "s3-list", "s3-odd-key", "dynamodb"],
)
def test_signature_matches_botocore(
    service: str, method: str, path: str, query: str, payload: str
) -> None:
    headers = ours(service, method, path, query, payload)
    body = b'{"TableName":"t"}' if service == "dynamodb" else b""
    mine = headers["authorization"].rsplit("Signature=", 1)[1]
    assert mine == botocore_signature(service, method, path, query, body)


@pytest.mark.parametrize(
    ("service", "method", "path", "query", "payload"),
    CASES,
    ids=["s3-put", "s3-list", "s3-odd-key", "dynamodb"],
)
def test_signature_verifies(service: str, method: str, path: str, query: str, payload: str) -> None:
    headers = ours(service, method, path, query, payload)
    body = b'{"TableName":"t"}' if service == "dynamodb" else b""
    request = sigv4.HttpRequest(method, path, query, tuple(headers.items()), body)
    parsed = sigv4.parse_authorization(request)
    rules = sigv4.S3_RULES if service == "s3" else sigv4.STANDARD_RULES
    sigv4.verify_request(request, parsed, "upstream-secret", now=NOW, rules=rules)
    assert parsed.security_token == "upstream-token"


def test_credentials_from_environment_and_repr() -> None:
    creds = UpstreamCredentials.from_environment(
        {
            "WEBFED_UPSTREAM_ACCESS_KEY_ID": "AKID",
            "WEBFED_UPSTREAM_SECRET_ACCESS_KEY": "very-secret",
            "WEBFED_UPSTREAM_SESSION_TOKEN": "tok-secret",
        }
    )
    assert "very-secret" not in repr(creds)
    assert "tok-secret" not in repr(creds)
    assert creds.session_token == "tok-secret"


@pytest.mark.parametrize(
    "environ",
    [{}, {"WEBFED_UPSTREAM_ACCESS_KEY_ID": "AKID"}, {"WEBFED_UPSTREAM_SECRET_ACCESS_KEY": "s"}],
    ids=["none", "no-secret", "no-key-id"],
)
def test_missing_credentials_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="WEBFED_UPSTREAM_ACCESS_KEY_ID"):
        UpstreamCredentials.from_environment(environ)
