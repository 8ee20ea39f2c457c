"""The provider answers only on a loopback listener unless forced, whoever started the app.

``webfed serve`` refuses a non-loopback ``--host`` (``test_settings_and_cli.py``); these tests
cover the application itself, as built by ``create_app`` for any ASGI server: each request's
``server`` address (the local end of its connection) must be a loopback one.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from webfed.admin import AdminCredentials
from webfed.http.app import create_app
from webfed.settings import Settings

ADMIN = AdminCredentials("AKIAWEBFEDTESTADMIN1", "x" * 40)
DISCOVERY = "/dev-idp/.well-known/openid-configuration"


def _app(tmp_path: Path, **settings: object) -> Starlette:
    return create_app(Settings(data_dir=tmp_path, dev_idp=True, **settings), ADMIN)


async def _get(app: Starlette, base_url: str, path: str) -> httpx.Response:
    """``path`` through a connection whose local end is ``base_url``'s host (the ASGI
    transport puts it in the scope's ``server``); no lifespan: no route here needs one."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        return await client.get(path)


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8700", "http://[::1]:8700", "http://localhost:8700"]
)
async def test_answers_on_loopback(tmp_path: Path, base_url: str) -> None:
    response = await _get(_app(tmp_path), base_url, DISCOVERY)
    assert response.status_code == 200
    assert response.json()["issuer"] == "http://127.0.0.1:8700/dev-idp"


@pytest.mark.parametrize(
    "path", [DISCOVERY, "/dev-idp/jwks.json", "/dev-idp/authorize?client_id=x", "/dev-idp/userinfo"]
)
@pytest.mark.parametrize("base_url", ["http://192.0.2.10:8700", "http://[2001:db8::1]:8700"])
async def test_silent_on_another_address(tmp_path: Path, base_url: str, path: str) -> None:
    """Served by an ASGI server on 0.0.0.0 without ``dev_idp_force``, a request that came in on
    a public address finds nothing; the same process still answers on loopback."""
    response = await _get(_app(tmp_path), base_url, path)
    assert response.status_code == 404
    assert "dev_idp_force" in response.text


async def test_forced_answers_anywhere(tmp_path: Path) -> None:
    app = _app(tmp_path, dev_idp_force=True)
    assert (await _get(app, "http://192.0.2.10:8700", DISCOVERY)).status_code == 200


async def _get_with_host(app: Starlette, host: str, path: str = DISCOVERY) -> httpx.Response:
    """``path`` on a loopback connection whose ``Host`` header names ``host``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8700") as client:
        return await client.get(path, headers={"Host": host})


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8700",
        "localhost:8700",
        "LOCALHOST",
        "[::1]:8700",
        "127.9.9.9",
        "dev.example.test",
    ],
)
async def test_loopback_and_public_host_names(tmp_path: Path, host: str) -> None:
    app = _app(tmp_path, public_url="http://dev.example.test:8700")
    assert (await _get_with_host(app, host)).status_code == 200


@pytest.mark.parametrize(
    "host", ["rebound.example:8700", "127.0.0.1.rebound.example", "192.0.2.10:8700", "[::]", ""]
)
async def test_other_host_names_are_refused(tmp_path: Path, host: str) -> None:
    """DNS rebinding: a page from ``rebound.example``, whose name now resolves to 127.0.0.1, is
    same-origin with the provider for the browser, and could read the code from the redirect
    it follows (to a loopback URI that answers CORS). The ``Host`` header still says
    ``rebound.example``: only loopback names and the public URL's host are served."""
    for path in (DISCOVERY, "/dev-idp/authorize?client_id=x"):
        response = await _get_with_host(_app(tmp_path), host, path)
        assert response.status_code == 421
        assert "Host" in response.text


async def test_forced_serves_any_host_name(tmp_path: Path) -> None:
    app = _app(tmp_path, dev_idp_force=True)
    assert (await _get_with_host(app, "rebound.example:8700")).status_code == 200
