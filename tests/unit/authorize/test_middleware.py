"""WebfedAuthMiddleware around a real Starlette app, driven in-process with botocore signing."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket

from tests.unit.authorize.helpers import ACCOUNT, ADMIN, IDENTITY, NOW, Clock, mint, ring
from tests.unit.authorize.http_helpers import signed_headers
from tests.unit.authorize.policies import Policies, allow, document
from webfed.asgi import RouteMatch, RouteRule, WebfedAuthMiddleware, webfed_auth
from webfed.authorizer import Authorizer
from webfed.core.authz_message import decode_authorization_message

BASE = "http://testserver"
SCORES = f"arn:aws:games:us-east-1:{ACCOUNT}:game/chess/player/"
ROUTES = [
    RouteRule(
        "GET",
        "/games/{game}/players/{player}/scores",
        "games:GetScores",
        "arn:aws:games:{region}:{account}:game/{game}/player/{player}",
        context={
            "games:Player": "{player}",
            "games:Limit": "{query.limit}",
            "games:Client": lambda match: match.headers.get("x-game-client"),
        },
    ),
    RouteRule("POST", "/games/{game}/moves", "games:PostMove", "arn:aws:games:::game/{game}"),
]
PLAYER_POLICY = document(
    allow(
        "games:GetScores",
        f"{SCORES}${{cognito-identity.amazonaws.com:sub}}",
        StringEquals={"games:Player": "${cognito-identity.amazonaws.com:sub}"},
    ),
    allow("games:PostMove", "arn:aws:games:::game/*"),
    allow("execute-api:Invoke", f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api/GET/public/*"),
)


async def _scores(request: Request) -> Response:
    result = webfed_auth(request)
    return JSONResponse(
        {
            "arn": result.caller.arn,
            "action": result.action,
            "resource": result.resource,
            "allowed": result.allowed,
        }
    )


async def _moves(request: Request) -> Response:
    return Response(await request.body(), media_type="application/octet-stream")


async def _anything(request: Request) -> Response:
    return JSONResponse({"resource": webfed_auth(request).resource})


async def _health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


def make_client(policies: Policies, clock: Clock | None = None) -> httpx.AsyncClient:
    authorizer = Authorizer(
        policies=policies,
        key_ring=ring,
        account_id=ACCOUNT,
        region="us-east-1",
        clock=clock or Clock(),
        admin=ADMIN,
    )
    app = Starlette(
        routes=[
            Route("/games/{game}/players/{player}/scores", _scores),
            Route("/games/{game}/moves", _moves, methods=["POST"]),
            Route("/public/{rest:path}", _anything),
            Route("/healthz", _health),
            WebSocketRoute("/ws", _socket),
        ]
    )
    # A function returning the authorizer, as an app that opens it in its lifespan passes.
    wrapped = WebfedAuthMiddleware(
        app, lambda: authorizer, ROUTES, exempt={"/healthz"}, max_body_bytes=1024
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url=BASE)


@pytest.fixture
def client() -> httpx.AsyncClient:
    return make_client(Policies(identity=[PLAYER_POLICY]))


async def test_allowed_request_reaches_the_app_with_the_caller(client: httpx.AsyncClient) -> None:
    path = f"/games/chess/players/{IDENTITY}/scores?limit=5"
    response = await client.get(path, headers=signed_headers(mint(), "GET", BASE + path))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/GamePlayer/player-42",
        "action": "games:GetScores",
        "resource": SCORES + IDENTITY,
        "allowed": True,
    }


async def test_another_players_scores_are_denied_with_an_encoded_message(
    client: httpx.AsyncClient,
) -> None:
    path = "/games/chess/players/us-east-1:someone-else/scores"
    response = await client.get(path, headers=signed_headers(mint(), "GET", BASE + path))
    assert response.status_code == 403
    body = response.json()
    assert body["__type"] == "AccessDeniedException"
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    encoded = body["message"].rsplit("Encoded authorization failure message: ", 1)[1]
    decoded = decode_authorization_message(encoded, ring())
    assert decoded["context"]["action"] == "games:GetScores"  # type: ignore[index]


async def test_unsigned_request_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/games/chess/players/{IDENTITY}/scores")
    assert response.status_code == 401
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
    assert response.headers["www-authenticate"] == "AWS4-HMAC-SHA256"


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (
            lambda h: h | {"Authorization": h["Authorization"][:-4] + "0000"},
            403,
            "InvalidSignatureException",
        ),
        (lambda h: h | {"X-Amz-Security-Token": "A" * 200}, 403, "UnrecognizedClientException"),
        (
            lambda h: h | {"Authorization": "AWS4-HMAC-SHA256 Credential=x"},
            400,
            "IncompleteSignatureException",
        ),
    ],
    ids=["bad-signature", "bad-token", "malformed"],
)
async def test_bad_credentials(
    client: httpx.AsyncClient, mutate: object, status: int, code: str
) -> None:
    path = f"/games/chess/players/{IDENTITY}/scores"
    headers = mutate(signed_headers(mint(), "GET", BASE + path))  # type: ignore[operator]
    response = await client.get(path, headers=headers)
    assert (response.status_code, response.json()["__type"]) == (status, code)


async def test_expired_session() -> None:
    client = make_client(Policies(identity=[PLAYER_POLICY]), Clock(NOW + timedelta(hours=2)))
    path = f"/games/chess/players/{IDENTITY}/scores"
    later = NOW + timedelta(hours=2)
    response = await client.get(
        path, headers=signed_headers(mint(), "GET", BASE + path, signed_at=later)
    )
    assert response.status_code == 403
    assert response.json()["__type"] == "ExpiredTokenException"


async def test_wrong_service_scope(client: httpx.AsyncClient) -> None:
    path = f"/games/chess/players/{IDENTITY}/scores"
    response = await client.get(
        path, headers=signed_headers(mint(), "GET", BASE + path, service="s3")
    )
    assert response.status_code == 403
    assert "scoped to correct service" in response.json()["message"]


async def test_body_is_checked_then_replayed(client: httpx.AsyncClient) -> None:
    body = json.dumps({"from": "e2", "to": "e4"}).encode()
    headers = signed_headers(mint(), "POST", BASE + "/games/chess/moves", body=body)
    response = await client.post("/games/chess/moves", headers=headers, content=body)
    assert response.status_code == 200
    assert response.content == body
    swapped = await client.post(
        "/games/chess/moves", headers=headers, content=body.replace(b"e4", b"e5")
    )
    assert swapped.status_code == 403
    assert swapped.json()["__type"] == "InvalidSignatureException"


async def test_body_above_the_cap(client: httpx.AsyncClient) -> None:
    body = b"x" * 2048
    headers = signed_headers(mint(), "POST", BASE + "/games/chess/moves", body=body)
    response = await client.post("/games/chess/moves", headers=headers, content=body)
    assert response.status_code == 413


def _raw_middleware(**options: object) -> WebfedAuthMiddleware:
    authorizer = Authorizer(policies=Policies(), key_ring=ring, account_id=ACCOUNT, region="r")

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("an unread body must not reach the app")

    return WebfedAuthMiddleware(app, authorizer, ROUTES, **options)  # type: ignore[arg-type]


def _post_scope(content_length: int) -> dict[str, object]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/games/chess/moves",
        "raw_path": b"/games/chess/moves",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-length", str(content_length).encode())],
        "scheme": "http",
        "client": ("127.0.0.1", 5000),
    }


async def test_a_late_body_is_408_and_never_reaches_the_app() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = _raw_middleware(body_timeout_seconds=0.05)
    await asyncio.wait_for(middleware(_post_scope(10), receive, send), timeout=5)
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["__type"] == "RequestTimeout"


async def test_a_client_gone_mid_body_gets_no_answer_and_the_app_never_runs() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"partial", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await _raw_middleware()(_post_scope(100), receive, send)
    assert sent == []


async def test_a_declared_length_above_the_cap_is_413_before_any_read() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("the body must not be read")

    async def send(message: Message) -> None:
        sent.append(message)

    await _raw_middleware(max_body_bytes=1024)(_post_scope(4096), receive, send)
    assert sent[0]["status"] == 413


async def test_fallback_is_execute_api_invoke(client: httpx.AsyncClient) -> None:
    path = "/public/news/today"
    response = await client.get(path, headers=signed_headers(mint(), "GET", BASE + path))
    assert response.status_code == 200
    assert response.json() == {
        "resource": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api/GET/public/news/today"
    }


@pytest.mark.parametrize(
    "path",
    [
        "/public/../games/chess/players/anyone/scores",
        "/public/%2e%2e/games/chess/players/anyone/scores",
        "/games/chess/players/anyone%2Fx/scores",
        "/public//news",
    ],
    ids=["dot-dot", "encoded-dot-dot", "encoded-slash", "empty-segment"],
)
async def test_ambiguous_paths_match_nothing(path: str) -> None:
    """The admin may do anything, yet a path two parsers could read differently is refused.

    Driven as raw ASGI: HTTP clients would clean these paths up before sending them.
    """
    authorizer = Authorizer(
        policies=Policies(),
        key_ring=ring,
        account_id=ACCOUNT,
        region="us-east-1",
        clock=Clock(),
        admin=ADMIN,
    )
    sent: list[Message] = []

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("an ambiguous path must not reach the app")

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = signed_headers(ADMIN, "GET", BASE + path)
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.0.0.1", 1234),
        "scheme": "http",
    }
    await WebfedAuthMiddleware(app, authorizer, ROUTES)(scope, receive, send)
    assert sent[0]["status"] == 403
    assert b"no route of this API names it" in sent[1]["body"]


async def test_admin_is_allowed(client: httpx.AsyncClient) -> None:
    path = "/games/chess/players/anyone/scores"
    response = await client.get(path, headers=signed_headers(ADMIN, "GET", BASE + path))
    assert response.status_code == 200
    assert response.json()["arn"] == f"arn:aws:iam::{ACCOUNT}:root"


async def test_exempt_paths_and_websockets(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"ok": True}
    authorizer = Authorizer(policies=Policies(), key_ring=ring, account_id=ACCOUNT, region="r")
    sent: list[Message] = []

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("a websocket must not reach the app")

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = WebfedAuthMiddleware(app, authorizer)
    await middleware({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_context_extractors_see_query_and_headers() -> None:
    rule = ROUTES[0]
    seen = RouteMatch(
        "GET", "/g", {"player": "p1"}, {"limit": "5"}, {"x-game-client": "ios"}, "r", "a", "api"
    )
    extractor = rule.context["games:Client"]
    assert callable(extractor)
    assert extractor(seen) == "ios"
    assert seen.lookup("query.limit") == "5"
