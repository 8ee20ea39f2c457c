"""CORS on the AWS endpoint: a browser page on another origin calls Cognito Identity and STS
directly (the AWS SDK for JavaScript's ``fromCognitoIdentityPool``), as AWS's endpoints allow."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import WebfedServer

PAGE = "http://127.0.0.1:8710"
SDK_HEADERS = "content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id,amz-sdk-request"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    server = WebfedServer(
        tmp_path_factory.mktemp("cors"), None, {"WEBFED_CORS_ORIGINS": f"{PAGE}, https://x.example"}
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        url + "/",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": SDK_HEADERS,
        },
        timeout=5,
    )


def _get_id(url: str, origin: str) -> httpx.Response:
    return httpx.post(
        url + "/",
        headers={
            "Origin": origin,
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityService.GetId",
        },
        content=json.dumps({"IdentityPoolId": "us-east-1:00000000-0000-4000-8000-000000000000"}),
        timeout=5,
    )


def test_any_origin_by_default(server: WebfedServer) -> None:
    preflight = _preflight(server.url, "https://game.example")
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == SDK_HEADERS
    assert "access-control-allow-credentials" not in preflight.headers
    answer = _get_id(server.url, "https://game.example")
    assert answer.status_code == 404  # the pool does not exist: an AWS error, readable by the page
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "x-amzn-requestid" in answer.headers["access-control-expose-headers"].lower()


def test_configured_origins_only(limited: WebfedServer) -> None:
    assert _preflight(limited.url, PAGE).headers["access-control-allow-origin"] == PAGE
    assert _preflight(limited.url, "https://evil.example").status_code == 403
    refused = _get_id(limited.url, "https://evil.example")
    assert "access-control-allow-origin" not in refused.headers
    assert _get_id(limited.url, PAGE).headers["access-control-allow-origin"] == PAGE
