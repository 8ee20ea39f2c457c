"""webfed against an OpenID provider it was not written with: npm ``oauth2-mock-server``.

The provider (``tests/providers``: ``package.json`` pins it, ``serve.mjs`` starts it) runs under
``node`` on a free 127.0.0.1 port, serves its own discovery document and JWKS, and issues ID
tokens from its ``/token`` endpoint (password grant: ``sub`` is ``johndoe``, ``aud`` the
``client_id`` asked for). webfed registers its issuer and exchanges those tokens exactly as it
would a production provider's: the keys, the signature and every claim check are exercised by
code neither side shares. Its access tokens are not ID tokens (no ``aud`` or no ``sub``) and must
be refused. RS256, PS256 and ES256 signing keys are each tried.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest

from tests.integration.test_federation_harness import (
    ACCOUNT,
    Federation,
    error_of,
    federation,
    message_of,
)
from tests.support.ports import free_port
from tests.support.processes import stop_process

__all__ = ["federation"]

PROVIDERS = Path(__file__).resolve().parents[1] / "providers"
APP_CLIENT = "webfed-app"
MOCK_SUBJECT = "johndoe"  # what oauth2-mock-server puts in every ID token's ``sub``


@dataclass
class MockProvider:
    """A running oauth2-mock-server."""

    url: str
    algorithm: str
    process: subprocess.Popen[str]

    def token_response(self, **form: str) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/token", data=form, timeout=10)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def id_token(self, client_id: str = APP_CLIENT) -> str:
        body = self.token_response(
            grant_type="password", username="alice", client_id=client_id, scope="openid"
        )
        return str(body["id_token"])


def _wait_ready(process: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"oauth2-mock-server exited: {process.stderr.read() if process.stderr else ''}"
            )
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline().strip()
            if line.startswith("READY "):
                return line.removeprefix("READY ")
    raise RuntimeError("oauth2-mock-server did not start in time")


@pytest.fixture(scope="module", params=["RS256", "PS256", "ES256"])
def mock_provider(request: pytest.FixtureRequest) -> Iterator[MockProvider]:
    node = shutil.which("node")
    if node is None or not (PROVIDERS / "node_modules" / "oauth2-mock-server").is_dir():
        pytest.fail(
            "node and tests/providers/node_modules are needed: run `npm ci` in tests/providers "
            "(scripts/check does it when npm is installed)"
        )
    port = free_port()
    process = subprocess.Popen(
        [node, "serve.mjs", str(port), request.param],
        cwd=PROVIDERS,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _wait_ready(process)
        yield MockProvider(url, request.param, process)
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def registered(federation: Federation, mock_provider: MockProvider) -> str:
    """The mock provider as an IAM OIDC provider; a role trusting its ``johndoe`` for our app."""
    provider_arn = federation.iam.create_open_id_connect_provider(
        Url=mock_provider.url, ClientIDList=[APP_CLIENT], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    prefix = mock_provider.url.removeprefix("http://")
    condition = {"StringEquals": {f"{prefix}:aud": APP_CLIENT, f"{prefix}:sub": MOCK_SUBJECT}}
    return federation.role(federation.web_identity_statement(condition, provider_arn=provider_arn))


def test_discovery_is_the_providers_own(mock_provider: MockProvider) -> None:
    document = httpx.get(f"{mock_provider.url}/.well-known/openid-configuration", timeout=5).json()
    assert document["issuer"] == mock_provider.url
    keys = httpx.get(document["jwks_uri"], timeout=5).json()["keys"]
    assert [key["alg"] for key in keys] == [mock_provider.algorithm]


def test_exchange_an_id_token(
    federation: Federation, mock_provider: MockProvider, registered: str
) -> None:
    result = federation.assume(registered, mock_provider.id_token(), RoleSessionName="mock")
    assert result["SubjectFromWebIdentityToken"] == MOCK_SUBJECT
    assert result["Audience"] == APP_CLIENT
    assert result["Provider"] == mock_provider.url
    identity = federation.session_client("sts", result["Credentials"]).get_caller_identity()
    assert identity["Arn"] == result["AssumedRoleUser"]["Arn"]
    assert identity["Account"] == ACCOUNT


def test_id_token_for_another_client(
    federation: Federation, mock_provider: MockProvider, registered: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(registered, mock_provider.id_token(client_id="someone-elses-app"))
    assert error_of(caught) == ("InvalidIdentityToken", 400)
    assert "Incorrect token audience" in message_of(caught)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(
            {"grant_type": "client_credentials", "aud": APP_CLIENT, "scope": "x"},
            id="client-credentials-access-token-no-sub",
        ),
        pytest.param(
            {"grant_type": "password", "username": "alice", "scope": "openid"},
            id="password-access-token-no-aud",
        ),
    ],
)
def test_access_tokens_are_not_id_tokens(
    federation: Federation, mock_provider: MockProvider, registered: str, form: dict[str, str]
) -> None:
    access_token = str(mock_provider.token_response(**form)["access_token"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(registered, access_token)
    assert error_of(caught) == ("InvalidIdentityToken", 400)


def test_sdk_environment_with_the_mock_providers_token(
    federation: Federation,
    mock_provider: MockProvider,
    registered: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(mock_provider.id_token(), encoding="utf-8")
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_ARN": registered,
        "AWS_ROLE_SESSION_NAME": "mock-sdk",
        "AWS_ENDPOINT_URL_STS": federation.server.url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    identity = boto3.Session().client("sts").get_caller_identity()
    assert identity["Arn"].endswith("/mock-sdk")
