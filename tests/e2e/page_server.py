"""The demo's page server in this process (no demo around it), for the relays' own tests."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.e2e.conftest import GAME_DIR
from webfed.demo import PageConfig, TokenRelay, build_page_app

PAGE_ORIGIN = "http://127.0.0.1:8710"
CLIENT_ID = "game-x"


def page_app(
    *,
    token_endpoint: str,
    webfed_url: str = "http://127.0.0.1:1",
    secret: str = "s3cret",
    method: str = "client_secret_post",
    cognito_relay: bool = True,
) -> Any:
    """The page's Starlette app with a token relay to ``token_endpoint`` (and, with
    ``cognito_relay``, the ``/cognito-identity`` relay to ``webfed_url``)."""
    relay = TokenRelay(token_endpoint, CLIENT_ID, secret, method, (f"{PAGE_ORIGIN}/",))
    config = PageConfig(
        game_dir=GAME_DIR,
        page_origin=PAGE_ORIGIN,
        webfed_url=webfed_url,
        page={},
        admin_key_id="unused",
        admin_secret="unused",
        relay=cognito_relay,
        token_relay=relay,
    )
    return build_page_app(config, lambda: None)


def post_to_page(app: Any, path: str, **kwargs: Any) -> httpx.Response:
    """A POST from the page (its Origin), answered by ``app``."""

    async def send() -> httpx.Response:
        # httpx's ASGI transport presents the client as 127.0.0.1, as the page would be.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url=PAGE_ORIGIN) as client:
            headers = {"Origin": PAGE_ORIGIN, **kwargs.pop("headers", {})}
            return await client.post(path, headers=headers, **kwargs)

    # In a thread of its own: Playwright's synchronous API may keep an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, send()).result()
