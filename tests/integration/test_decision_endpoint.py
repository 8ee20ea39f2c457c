"""The decision endpoints of a real ``webfed serve``, called in the shapes Envoy and nginx use.

The server is started with ``WEBFED_AUTHZ_ROUTES`` naming a route table file; credentials come
from ``AssumeRoleWithWebIdentity``; requests to the protected API (``games.example.test``) are
signed by botocore, and the proxy's check request carries them to webfed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.integration.test_federation_harness import ACCOUNT, Federation, federation_for

API_HOST = "games.example.test"
ROUTES = """\
api: games
routes:
  - method: GET
    path: /players/{player}/saves/{slot}
    action: games:GetSave
    resource: arn:aws:games:{region}:{account}:player/{player}/save/{slot}
  - method: PUT
    path: /players/{player}/saves/{slot}
    action: games:PutSave
    resource: arn:aws:games:{region}:{account}:player/{player}/save/{slot}
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def proxied(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    routes = tmp_path_factory.mktemp("routes") / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    yield from federation_for(request, tmp_path_factory, {"WEBFED_AUTHZ_ROUTES": str(routes)})


@pytest.fixture(scope="module")
def alice(proxied: Federation) -> dict[str, str]:
    own = f"arn:aws:games:us-east-1:{ACCOUNT}:player/${{{proxied.prefix}:sub}}/*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["games:GetSave", "games:PutSave"], "Resource": own}
        ],
    }
    role = proxied.role(inline=policy)
    result = proxied.assume(role, proxied.token(subject="alice"), RoleSessionName="alice")
    credentials: dict[str, str] = result["Credentials"]
    return credentials


def _signed(
    credentials: dict[str, str], method: str, path: str, body: bytes = b"", **headers: str
) -> dict[str, str]:
    request = AWSRequest(method=method, url=f"https://{API_HOST}{path}", data=body, headers=headers)
    keys = Credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    SigV4Auth(keys, "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items()) | {"x-original-host": API_HOST}


def _check(
    server: Any, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> httpx.Response:
    url = f"{server.url}/_webfed/authz/envoy{path}"
    return httpx.request(method, url, headers=headers, content=body, timeout=10)


def test_envoy_allows_and_passes_the_caller_upstream(
    proxied: Federation, alice: dict[str, str]
) -> None:
    path = "/players/alice/saves/1"
    response = _check(proxied.server, "GET", path, _signed(alice, "GET", path))
    assert response.status_code == 200, response.text
    assert response.headers["x-webfed-principal-arn"].endswith("/alice")
    assert (
        response.headers["x-webfed-resource"]
        == f"arn:aws:games:us-east-1:{ACCOUNT}:player/alice/save/1"
    )


def test_envoy_denies_with_aws_json(proxied: Federation, alice: dict[str, str]) -> None:
    path = "/players/bob/saves/1"
    response = _check(proxied.server, "GET", path, _signed(alice, "GET", path))
    assert response.status_code == 403
    assert response.json()["__type"] == "AccessDeniedException"
    assert "Encoded authorization failure message" in response.json()["message"]
    assert _check(proxied.server, "GET", path, {}).status_code == 401


def test_envoy_with_the_request_body(proxied: Federation, alice: dict[str, str]) -> None:
    path = "/players/alice/saves/3"
    body = b'{"level": 7}'
    headers = _signed(alice, "PUT", path, body) | {"x-envoy-auth-partial-body": "false"}
    assert _check(proxied.server, "PUT", path, headers, body).status_code == 200
    assert _check(proxied.server, "PUT", path, headers, b'{"level": 99}').status_code == 403


def test_nginx_auth_request(proxied: Federation, alice: dict[str, str]) -> None:
    url = f"{proxied.server.url}/_webfed/authz/nginx"
    body = b'{"level": 8}'
    digest = hashlib.sha256(body).hexdigest()
    for path, method, expected in (
        ("/players/alice/saves/1?verbose=1", "GET", 200),
        ("/players/bob/saves/1", "GET", 403),
    ):
        headers = _signed(alice, method, path)
        headers |= {"x-original-uri": path, "x-original-method": method}
        assert httpx.get(url, headers=headers, timeout=10).status_code == expected, path
    put = _signed(alice, "PUT", "/players/alice/saves/4", body, **{"x-amz-content-sha256": digest})
    put |= {"x-original-uri": "/players/alice/saves/4", "x-original-method": "PUT"}
    assert httpx.get(url, headers=put, timeout=10).status_code == 200
    unsigned = {"x-original-uri": "/players/alice/saves/1", "x-original-method": "GET"}
    assert httpx.get(url, headers=unsigned, timeout=10).status_code == 401
