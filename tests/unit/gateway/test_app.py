"""The gateway's ASGI app in-process: preflights, health, lifespan, errors in each protocol,
and the key-schema cache's single flight."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from webfed.errors import AccessDenied, ExpiredToken
from webfed.gateway.app import HEALTH_PATH, GatewayApp
from webfed.gateway.body import Receive
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.dynamodb import KeySchema
from webfed.gateway.dynamodb_proxy import KeySchemaCache
from webfed.gateway.proxy import Send

ORIGIN = "https://game.example"


class Raising:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def handle(
        self, scope: MutableMapping[str, Any], receive: Receive, send: Send, record: Any
    ) -> None:
        raise self.error


def app_for(service: str, handler: Any) -> GatewayApp:
    async def start() -> Any:
        return handler

    async def stop() -> None:
        return None

    return GatewayApp(service, CorsPolicy.of([ORIGIN]), start=start, stop=stop)


async def client(app: GatewayApp) -> httpx.AsyncClient:
    await app.startup()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


async def test_preflight_is_answered_without_the_handler() -> None:
    app = app_for("s3", Raising(AssertionError("must not be called")))
    async with await client(app) as http:
        response = await http.options(
            "/b/k", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ORIGIN


async def test_health_before_and_after_start() -> None:
    app = app_for("dynamodb", Raising(AssertionError()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        assert (await http.get(HEALTH_PATH)).status_code == 503
        await app.startup()
        assert (await http.get(HEALTH_PATH)).status_code == 200
        await app.shutdown()
        assert (await http.get(HEALTH_PATH)).status_code == 503


@pytest.mark.parametrize(
    ("service", "error", "status", "needle"),
    [
        ("s3", AccessDenied("Access Denied"), 403, b"<Code>AccessDenied</Code>"),
        ("s3", ExpiredToken("expired"), 400, b"<Code>ExpiredToken</Code>"),
        ("s3", RuntimeError("secret detail"), 500, b"<Code>InternalError</Code>"),
        ("dynamodb", AccessDenied("no"), 400, b"#AccessDeniedException"),
        ("dynamodb", RuntimeError("secret detail"), 500, b"InternalFailure"),
    ],
    ids=["s3-denied", "s3-expired", "s3-crash", "dynamodb-denied", "dynamodb-crash"],
)
async def test_errors_in_the_clients_protocol(
    service: str, error: BaseException, status: int, needle: bytes
) -> None:
    app = app_for(service, Raising(error))
    async with await client(app) as http:
        response = await http.post("/", content=b"{}", headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert needle in response.content
    assert b"secret detail" not in response.content
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["connection"] == "close"  # the body was never read


async def test_head_errors_have_no_body() -> None:
    app = app_for("s3", Raising(AccessDenied("Access Denied")))
    async with await client(app) as http:
        response = await http.head("/b/k")
    assert response.status_code == 403
    assert response.content == b""


async def test_lifespan_protocol() -> None:
    app = app_for("s3", Raising(AssertionError()))
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- key schemas --------------------------------------------------------------------------------


async def test_key_schema_cache_single_flight_ttl_and_forget() -> None:
    calls: list[str] = []
    now = [0.0]

    async def fetch(table: str) -> KeySchema | None:
        calls.append(table)
        await asyncio.sleep(0.01)
        return None if table == "missing" else KeySchema("pk")

    cache = KeySchemaCache(fetch, lambda: now[0], ttl=10)
    results = await asyncio.gather(*(cache.get("t") for _ in range(5)))
    assert results == [KeySchema("pk")] * 5
    assert calls == ["t"]
    await cache.get("t")
    assert calls == ["t"]
    now[0] = 11
    await cache.get("t")
    cache.forget("t")
    await cache.get("t")
    assert calls == ["t", "t", "t"]
    assert await cache.get("missing") is None
    assert await cache.get("missing") is None
    assert calls.count("missing") == 2  # an unknown table is asked again: it may be created


async def test_key_schema_cache_shares_a_failure() -> None:
    async def fetch(table: str) -> KeySchema | None:
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream down")

    cache = KeySchemaCache(fetch, lambda: 0.0)
    results = await asyncio.gather(*(cache.get("t") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
