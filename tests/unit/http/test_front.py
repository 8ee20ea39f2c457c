"""AwsFrontDoor: AWS calls on ``/`` go straight to the dispatcher; all else to Starlette."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope

from webfed.http import front
from webfed.http.dispatch import AwsReply


async def _starlette_root(request: Request) -> Response:
    return PlainTextResponse(f"starlette {request.method} {request.url.path}")


def _door(monkeypatch: pytest.MonkeyPatch, seen: list[Any]) -> front.AwsFrontDoor:
    async def dispatcher(app: Starlette, scope: Scope, receive: Receive) -> AwsReply:
        seen.append((scope["method"], await Request(scope, receive).body(), app))
        return AwsReply(200, [(b"content-type", b"text/xml")], b"<dispatched/>")

    monkeypatch.setattr(front, "answer_aws_call", dispatcher)
    routes = [
        Route("/", _starlette_root, methods=["GET", "POST"]),
        Route("/healthz", _starlette_root),
    ]
    return front.AwsFrontDoor(Starlette(routes=routes))


def _client(app: Any, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://webfed.test")


@pytest.mark.parametrize("method", ["GET", "POST"], ids=["get", "post"])
async def test_aws_calls_reach_the_dispatcher_with_the_starlette_app(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    door = _door(monkeypatch, seen)
    async with _client(door) as client:
        response = await client.request(method, "/", content=b"Action=GetCallerIdentity")
    assert response.status_code == 200
    assert response.content == b"<dispatched/>"
    assert [(m, app) for m, _, app in seen] == [(method, door.app)]


@pytest.mark.parametrize(
    ("method", "path", "root_path"),
    [("GET", "/healthz", ""), ("HEAD", "/", ""), ("POST", "/", "/prefix")],
    ids=["other-path", "head", "mounted-under-a-root-path"],
)
async def test_everything_else_is_starlettes(
    method: str, path: str, root_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    async with _client(_door(monkeypatch, seen), root_path) as client:
        response = await client.request(method, root_path + path)
    assert seen == []
    assert response.status_code == 200
    assert response.text == ("" if method == "HEAD" else f"starlette {method} {root_path}{path}")


async def test_an_error_the_dispatcher_did_not_answer_is_a_plain_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(app: Starlette, scope: Scope, receive: Receive) -> AwsReply:
        raise RuntimeError("bug with a secret: wJalrXUtnFEMI")

    door = front.AwsFrontDoor(Starlette())
    monkeypatch.setattr(front, "answer_aws_call", broken)
    async with _client(door) as client:
        response = await client.post("/", content=b"Action=X")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers.raw == PlainTextResponse("Internal Server Error", 500).raw_headers
    assert "wJalrXUtnFEMI" not in response.text


async def test_lifespan_events_reach_starlette() -> None:
    started: list[bool] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append(True)
        yield

    door = front.AwsFrontDoor(Starlette(lifespan=lifespan))
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await door({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert started == [True]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
