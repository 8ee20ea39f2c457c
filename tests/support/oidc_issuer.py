"""A small but real OpenID provider over HTTP on 127.0.0.1, for tests.

Starlette serves ``/.well-known/openid-configuration`` and ``/jwks.json``; uvicorn runs it in a
background thread on a port of its own. Tests mint real signed tokens with :meth:`mint`,
rotate keys, and switch the provider into failure modes to exercise webfed's key fetching.

Modes (``issuer.mode``):

    normal            discovery + JWKS as a provider serves them
    down              every request gets 503
    slow              every request sleeps ``slow_seconds`` first
    garbage           bodies are not JSON
    huge              the JWKS is larger than 1 MiB (streamed)
    wrong_issuer      the discovery ``issuer`` differs from the URL
    other_host_jwks   ``jwks_uri`` names ``localhost`` instead of 127.0.0.1 (same server)
    redirect          discovery and JWKS answer 302 to the same path under ``/moved`` (same host)
    redirect_other_host   discovery answers 302 to ``localhost`` (another host name)

``stop()`` makes the port refuse connections; ``start()`` serves again on the same port.
No two issuers in one test run share a port, even after one of them stopped (``ports``): a new
issuer on a stopped one's port would have its URL, and webfed refuses a second provider for a URL.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from tests.support.ports import bound_socket
from tests.support.tokens import SigningKey, generate_signing_key, sign, standard_claims

__all__ = ["MODES", "OidcTestIssuer"]

MODES = frozenset(
    {
        "normal",
        "down",
        "slow",
        "garbage",
        "huge",
        "wrong_issuer",
        "other_host_jwks",
        "redirect",
        "redirect_other_host",
    }
)
_HUGE_CHUNK = b" " * 65_536


class OidcTestIssuer:
    """One OpenID provider. ``url`` is its issuer (``http://127.0.0.1:<port>``)."""

    def __init__(self, *, client_id: str = "client-1") -> None:
        self.client_id = client_id
        self._socket: socket.socket | None = bound_socket(reuse_address=True)
        self.port: int = self._socket.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # --- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to one fresh RS256 key, mode normal, counters zero, ``max-age=3600``.

        ``extra_jwks`` are raw JWK members published after the keys (to serve odd keys)."""
        self.keys: list[SigningKey] = [generate_signing_key("RS256", "key-1")]
        self.signing_key: SigningKey = self.keys[0]
        self.mode = "normal"
        self.slow_seconds = 1.0
        self.cache_control: str | None = "public, max-age=3600"
        self.extra_jwks: list[dict[str, Any]] = []
        self.discovery_requests = 0
        self.jwks_requests = 0
        self._generation = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks.json"

    def add_key(self, algorithm: str = "RS256", kid: str | None = None) -> SigningKey:
        """Publish one more key (not used for signing unless passed to :meth:`mint`)."""
        self._generation += 1
        key = generate_signing_key(algorithm, kid or f"key-{self._generation}")
        self.keys.append(key)
        return key

    def rotate_keys(self, *, keep_old: bool = True, algorithm: str = "RS256") -> SigningKey:
        """Publish a new signing key; the old ones stay published unless ``keep_old`` is false."""
        new = self.add_key(algorithm)
        if not keep_old:
            self.keys = [new]
        self.signing_key = new
        return new

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid claims for this issuer and ``client_id``, issued now, for ten minutes."""
        overrides.setdefault("audience", self.client_id)
        return standard_claims(self.url, **overrides)

    def mint(
        self,
        claims: dict[str, Any] | None = None,
        *,
        alg: str | None = None,
        kid: str | None = "",
        headers: dict[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """A real token signed by ``key`` (default: the current signing key)."""
        return sign(
            self.claims() if claims is None else claims,
            key or self.signing_key,
            alg=alg,
            kid=kid,
            headers=headers,
        )

    # --- HTTP ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"cache-control": self.cache_control} if self.cache_control else {}

    async def _failure(self, request: Request) -> Response | None:
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.mode == "down":
            return PlainTextResponse("unavailable", status_code=503)
        if self.mode == "garbage":
            return PlainTextResponse("{not json", media_type="application/json")
        moved = not request.url.path.startswith("/moved")
        if self.mode == "redirect" and moved:
            return RedirectResponse(f"{self.url}/moved{request.url.path}", status_code=302)
        return None

    async def _discovery(self, request: Request) -> Response:
        self.discovery_requests += 1
        failure = await self._failure(request)
        if failure is not None:
            return failure
        if self.mode == "redirect_other_host":
            target = f"http://localhost:{self.port}{request.url.path}"
            return RedirectResponse(target, status_code=302)
        host = "localhost" if self.mode == "other_host_jwks" else "127.0.0.1"
        document = {
            "issuer": self.url + ("/other" if self.mode == "wrong_issuer" else ""),
            "jwks_uri": f"http://{host}:{self.port}/jwks.json",
            "id_token_signing_alg_values_supported": sorted({k.algorithm for k in self.keys}),
        }
        return JSONResponse(document, headers=self._headers())

    async def _jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        failure = await self._failure(request)
        if failure is not None:
            return failure
        if self.mode == "huge":
            return StreamingResponse(self._huge_body(), media_type="application/json")
        document = {"keys": [key.public_jwk() for key in self.keys] + self.extra_jwks}
        return JSONResponse(document, headers=self._headers())

    @staticmethod
    async def _huge_body() -> AsyncIterator[bytes]:
        yield b'{"keys": ['
        for _ in range(20):  # 1.25 MiB of whitespace, then a valid end
            yield _HUGE_CHUNK
        yield b"]}"

    def _app(self) -> Starlette:
        routes = []
        for prefix in ("", "/moved"):
            routes.append(Route(f"{prefix}/.well-known/openid-configuration", self._discovery))
            routes.append(Route(f"{prefix}/jwks.json", self._jwks))
        return Starlette(routes=routes)

    # --- lifecycle ----------------------------------------------------------------------------

    @staticmethod
    def _bind(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        return sock

    def start(self) -> OidcTestIssuer:
        if self._server is not None:
            return self
        if self._socket is None:
            self._socket = self._bind(self.port)
        config = uvicorn.Config(
            self._app(),
            log_level="warning",
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        sockets = [self._socket]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test OpenID issuer did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving: connections to the port are refused until :meth:`start`."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> OidcTestIssuer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
