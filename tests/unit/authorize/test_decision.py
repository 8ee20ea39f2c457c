"""The decision endpoints in the shapes Envoy ext_authz and nginx auth_request send."""

from __future__ import annotations

import asyncio
import hashlib
import json
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from tests.unit.authorize.helpers import ACCOUNT, ADMIN, IDENTITY, Clock, mint, ring
from tests.unit.authorize.http_helpers import signed_headers
from tests.unit.authorize.policies import Policies, allow, document
from webfed.asgi import RouteRule, RouteTable
from webfed.authorizer import Authorizer
from webfed.http import decision
from webfed.settings import Settings

ORIGIN = "https://api.example.com"
TABLE = RouteTable(
    (
        RouteRule(
            "GET",
            "/games/{game}/players/{player}/scores",
            "games:GetScores",
            "arn:aws:games:{region}:{account}:game/{game}/player/{player}",
        ),
        RouteRule("POST", "/games/{game}/moves", "games:PostMove", "arn:aws:games:::game/{game}"),
    )
)
POLICY = document(
    allow(
        "games:GetScores",
        f"arn:aws:games:us-east-1:{ACCOUNT}:game/*/player/${{cognito-identity.amazonaws.com:sub}}",
        IpAddress={"aws:SourceIp": "203.0.113.0/24"},
        Bool={"aws:SecureTransport": "true"},
    ),
    allow("games:PostMove", "arn:aws:games:::game/*"),
)
SCORES = f"/games/chess/players/{IDENTITY}/scores"
CLIENT = {"x-webfed-source-ip": "203.0.113.9", "x-forwarded-proto": "https"}


@pytest.fixture
def client() -> httpx.AsyncClient:
    authorizer = Authorizer(
        policies=Policies(identity=[POLICY]),
        key_ring=ring,
        account_id=ACCOUNT,
        region="us-east-1",
        clock=Clock(),
        admin=ADMIN,
    )
    app = Starlette(routes=decision.ROUTES)
    app.state.runtime = SimpleNamespace(settings=Settings(max_request_body_bytes=65_536))
    app.state.webfed_decisions = (authorizer, TABLE)
    transport = httpx.ASGITransport(app)
    return httpx.AsyncClient(transport=transport, base_url="http://webfed:8700")


def _original(method: str, target: str, body: bytes = b"", **extra: str) -> dict[str, str]:
    """Headers of the client's request to api.example.com, as the proxy passes them on."""
    headers = signed_headers(mint(), method, ORIGIN + target, body=body, headers=extra or None)
    return headers | {"x-original-host": "api.example.com"} | CLIENT


# --- Envoy ------------------------------------------------------------------------------------


async def test_envoy_allows_and_names_the_caller(client: httpx.AsyncClient) -> None:
    response = await client.get(decision.ENVOY_PREFIX + SCORES, headers=_original("GET", SCORES))
    assert response.status_code == 200, response.text
    assert response.headers["x-webfed-principal-arn"].endswith(":assumed-role/GamePlayer/player-42")
    assert response.headers["x-webfed-user-id"] == "AROAGAMEPLAYEREXAMPLE:player-42"
    assert response.headers["x-webfed-action"] == "games:GetScores"
    assert response.headers["x-webfed-account"] == ACCOUNT


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"x-webfed-source-ip": "198.51.100.1"}, 403, "AccessDeniedException"),
        ({"x-forwarded-proto": "http"}, 403, "AccessDeniedException"),
        ({"x-original-host": "evil.example.com"}, 403, "InvalidSignatureException"),
    ],
    ids=["other-network", "plain-http", "other-host"],
)
async def test_envoy_denials(
    client: httpx.AsyncClient, change: dict[str, str], status: int, code: str
) -> None:
    headers = _original("GET", SCORES) | change
    response = await client.get(decision.ENVOY_PREFIX + SCORES, headers=headers)
    assert (response.status_code, response.json()["__type"]) == (status, code)


async def test_envoy_unsigned_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(decision.ENVOY_PREFIX + SCORES)
    assert response.status_code == 401


async def test_envoy_with_the_body(client: httpx.AsyncClient) -> None:
    body = b'{"from":"e2","to":"e4"}'
    headers = _original("POST", "/games/chess/moves", body) | {"x-envoy-auth-partial-body": "false"}
    url = decision.ENVOY_PREFIX + "/games/chess/moves"
    assert (await client.post(url, headers=headers, content=body)).status_code == 200
    tampered = await client.post(url, headers=headers, content=b'{"from":"e2","to":"e5"}')
    assert tampered.status_code == 403


def _decision_app(timeout: float = 30.0) -> Starlette:
    app = Starlette(routes=decision.ROUTES)
    app.state.runtime = SimpleNamespace(
        settings=Settings(max_request_body_bytes=65_536, request_body_timeout_seconds=timeout)
    )
    return app


def _envoy_scope(content_length: int) -> dict[str, object]:
    path = decision.ENVOY_PREFIX + "/games/chess/moves"
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"webfed:8700"),
            (b"x-envoy-auth-partial-body", b"false"),
            (b"content-length", str(content_length).encode()),
        ],
        "scheme": "http",
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8700),
    }


async def _envoy_raw(app: Starlette, content_length: int, messages: list[Message]) -> list[Message]:
    """The decision endpoint driven with raw ASGI messages; what it sent back."""
    sent: list[Message] = []

    async def receive() -> Message:
        if not messages:
            await asyncio.sleep(3600)
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(_envoy_scope(content_length), receive, send), timeout=10)
    return sent


async def test_envoy_body_limits() -> None:
    """A declared length over the cap is 413 before any read; a body that never comes, 408;
    a proxy gone mid-body, no 500 (nobody reads the answer)."""
    app = _decision_app(timeout=0.05)
    too_large = await _envoy_raw(app, 65_537, [])
    assert too_large[0]["status"] == 413
    late = await _envoy_raw(app, 10, [])
    assert late[0]["status"] == 408
    assert json.loads(late[1]["body"])["__type"] == "RequestTimeout"
    gone = await _envoy_raw(
        app,
        100,
        [
            {"type": "http.request", "body": b"partial", "more_body": True},
            {"type": "http.disconnect"},
        ],
    )
    assert gone[0]["status"] == 400


async def test_envoy_without_the_body_trusts_only_a_signed_digest(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"from":"e2","to":"e4"}'
    url = decision.ENVOY_PREFIX + "/games/chess/moves"
    digest = hashlib.sha256(body).hexdigest()
    declared = _original("POST", "/games/chess/moves", body, **{"x-amz-content-sha256": digest})
    assert (await client.post(url, headers=declared)).status_code == 200
    undeclared = _original("POST", "/games/chess/moves", body)
    assert (await client.post(url, headers=undeclared)).status_code == 403


# --- nginx ------------------------------------------------------------------------------------


def _subrequest(method: str, target: str, headers: dict[str, str]) -> dict[str, str]:
    return headers | {"x-original-uri": target, "x-original-method": method}


async def test_nginx_allows(client: httpx.AsyncClient) -> None:
    target = SCORES + "?limit=5"
    headers = _subrequest("GET", target, _original("GET", target))
    response = await client.get(decision.NGINX_PATH, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-webfed-resource"].endswith(f"player/{IDENTITY}")


async def test_nginx_post_is_checked_as_the_original_method(client: httpx.AsyncClient) -> None:
    body = b"{}"
    digest = hashlib.sha256(body).hexdigest()
    original = _original("POST", "/games/go/moves", body, **{"x-amz-content-sha256": digest})
    headers = _subrequest("POST", "/games/go/moves", original)
    assert (await client.get(decision.NGINX_PATH, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"x-original-method": "GET"}, 403),
        (_subrequest("GET", "/games/chess/players/someone/scores", {}), 401),
    ],
    ids=["nothing", "no-original-uri", "unsigned"],
)
async def test_nginx_answers_only_401_or_403(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.get(decision.NGINX_PATH, headers=headers)
    assert response.status_code == status


async def test_nginx_denies_another_players_scores(client: httpx.AsyncClient) -> None:
    target = "/games/chess/players/someone/scores"
    response = await client.get(
        decision.NGINX_PATH, headers=_subrequest("GET", target, _original("GET", target))
    )
    assert response.status_code == 403
    assert response.json()["__type"] == "AccessDeniedException"
