"""The game page's server: the page's files, ``/config.json`` (every endpoint the page needs),
``POST /admin/decode`` (the administrator's decoder), and the relays the page may need
(``/cognito-identity`` to webfed, ``/oidc/token`` to the provider)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from webfed.demo.game import BUCKET, TABLE, GameFile
from webfed.demo.ports import Ports
from webfed.demo.provider import DEFAULT_SCOPE, Provider, ProviderEndpoints
from webfed.demo.relay import BODY_TIMEOUT_SECONDS, RELAY_PATH, TokenRelay, token_endpoint
from webfed.errors import RequestEntityTooLarge, RequestTimeout
from webfed.http.body import read_body

__all__ = ["PageConfig", "build_page_app", "from_the_page", "main_listener_allows", "page_settings"]

_MAX_ENCODED = 10_240
_MAX_DECODE_BODY = 2 * _MAX_ENCODED  # {"encodedMessage": "..."} with room for escapes
_NO_STORE = {"Cache-Control": "no-store"}
# The largest Cognito Identity call the page relays: its calls are a few hundred bytes, plus
# the logins (a few ID tokens of a few KiB each).
_MAX_COGNITO_BODY = 256 * 1024


@dataclass(frozen=True)
class PageConfig:
    """Everything the game page's server needs."""

    game_dir: Path
    page_origin: str
    webfed_url: str
    page: dict[str, Any]
    admin_key_id: str
    admin_secret: str = field(repr=False)
    relay: bool
    token_relay: TokenRelay | None = None


def from_the_page(request: Any, page_origin: str) -> bool:
    """Whether a request to the page's server comes from the page (or a local program).

    A loopback client; the page's own Host (another name resolving to 127.0.0.1 is DNS
    rebinding); and no foreign Origin (browsers send one on every cross-origin POST).
    """
    client = request.client
    origin = request.headers.get("origin")
    return (
        client is not None
        and client.host in ("127.0.0.1", "::1")
        and request.headers.get("host") == page_origin.split("://", 1)[1]
        and (origin is None or origin == page_origin)
    )


def _decoder(config: PageConfig) -> Callable[[Any], Awaitable[Any]]:
    """``POST /admin/decode``: sts:DecodeAuthorizationMessage as the administrator."""
    import anyio
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, Response

    def decode_now(encoded: str) -> str:
        import botocore.session
        from botocore.config import Config

        client = botocore.session.get_session().create_client(
            "sts",
            region_name=config.page["region"],
            endpoint_url=config.webfed_url,
            aws_access_key_id=config.admin_key_id,
            aws_secret_access_key=config.admin_secret,
            config=Config(retries={"max_attempts": 1}),
        )
        return str(client.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])

    async def decode(request: Request) -> Response:
        # The administrator's helper answers the page itself only: it reveals why a request
        # was refused, which AWS keeps from the caller on purpose. So the page's own requests
        # (see from_the_page), with a JSON body, which a cross-site form cannot send without
        # a preflight.
        if not from_the_page(request, config.page_origin):
            return JSONResponse({"error": "the page's own origin only"}, status_code=403)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return JSONResponse({"error": "send application/json"}, status_code=415)
        try:
            raw = await read_body(
                request.receive,
                request.headers.get("content-length"),
                _MAX_DECODE_BODY,
                BODY_TIMEOUT_SECONDS,
            )
        except RequestEntityTooLarge:
            return JSONResponse({"error": "the request body is too large"}, status_code=413)
        except (RequestTimeout, ClientDisconnect):
            return JSONResponse({"error": "the request body did not arrive"}, status_code=400)
        try:
            body = json.loads(raw)
            encoded = body["encodedMessage"]
            if not isinstance(encoded, str) or not 0 < len(encoded) <= _MAX_ENCODED:
                raise ValueError("encodedMessage must be a non-empty string")
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"error": 'send {"encodedMessage": "..."}'}, status_code=400)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            decoded = await anyio.to_thread.run_sync(decode_now, encoded)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Error")
            return JSONResponse({"error": code}, status_code=400)
        except BotoCoreError:
            return JSONResponse({"error": "webfed is unreachable"}, status_code=502)
        return JSONResponse({"decodedMessage": json.loads(decoded)}, headers=_NO_STORE)

    return decode


def _cognito_identity_relay(webfed_url: str, page_origin: str) -> Callable[[Any], Awaitable[Any]]:
    """``POST /cognito-identity``: the page's unsigned Cognito Identity calls, passed to webfed.

    Used only while webfed's main listener answers no CORS preflight: the page then reaches
    the Cognito Identity API through its own origin.
    """
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, Response

    forwarded = ("content-type", "x-amz-target", "x-amz-user-agent", "user-agent")

    def failure(status: int, kind: str, message: str) -> Response:
        # The JSON 1.1 error shape, which the SDK reads as the error's name and message.
        return JSONResponse({"__type": kind, "message": message}, status_code=status)

    async def relay(request: Request) -> Response:
        if not from_the_page(request, page_origin):
            return failure(403, "AccessDeniedException", "the page's own origin only")
        headers = {name: request.headers[name] for name in forwarded if name in request.headers}
        declared = request.headers.get("content-length")
        try:
            body = await read_body(
                request.receive, declared, _MAX_COGNITO_BODY, BODY_TIMEOUT_SECONDS
            )
        except RequestEntityTooLarge:
            return failure(413, "RequestEntityTooLarge", "the request body is too large")
        except (RequestTimeout, ClientDisconnect):
            return failure(400, "SerializationException", "the request body did not arrive")
        try:
            async with httpx.AsyncClient(timeout=30.0) as http:
                upstream = await http.post(f"{webfed_url}/", content=body, headers=headers)
        except httpx.HTTPError:
            return failure(502, "BadGateway", "webfed did not answer the demo's relay")
        passed = {
            name: upstream.headers[name]
            for name in ("content-type", "x-amzn-requestid")
            if name in upstream.headers
        }
        return Response(upstream.content, status_code=upstream.status_code, headers=passed)

    return relay


def build_page_app(config: PageConfig, watchdog: Callable[[], str | None]) -> Any:
    """The Starlette app serving the page, its configuration and the administrator's helper.

    Only the files listed here are served (no directory listing, no path from the request).
    ``watchdog`` is polled twice a second; when it names a child that exited, the demo stops.
    """
    import anyio
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    def static(relative: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
        path = config.game_dir / relative

        async def serve(_: Request) -> Response:
            return FileResponse(path, media_type=media_type, headers=_NO_STORE)

        return serve

    async def page_config(_: Request) -> Response:
        return JSONResponse(config.page, headers=_NO_STORE)

    html = "text/html; charset=utf-8"
    routes = [
        Route("/", static("index.html", html)),
        Route("/index.html", static("index.html", html)),
        Route("/style.css", static("style.css", "text/css; charset=utf-8")),
        Route("/dist/game.js", static("dist/game.js", "text/javascript; charset=utf-8")),
        Route("/config.json", page_config),
        Route("/admin/decode", _decoder(config), methods=["POST"]),
    ]
    if config.token_relay is not None:

        def from_page(request: Request) -> bool:
            return from_the_page(request, config.page_origin)

        routes.append(
            Route(RELAY_PATH, token_endpoint(config.token_relay, from_page), methods=["POST"])
        )
    if config.relay:
        relay = _cognito_identity_relay(config.webfed_url, config.page_origin)
        routes += [
            Route("/cognito-identity", relay, methods=["POST"]),
            Route("/cognito-identity/", relay, methods=["POST"]),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def watch() -> None:
            while True:
                await anyio.sleep(0.5)
                gone = watchdog()
                if gone is not None:
                    click.echo(f"webfed demo: {gone}; stopping.", err=True)
                    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own shutdown, then ours
                    return

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch)
            yield
            tasks.cancel_scope.cancel()

    return Starlette(routes=routes, lifespan=lifespan)


def page_settings(
    ports: Ports,
    game: GameFile,
    endpoints: ProviderEndpoints,
    relay: bool,
    provider: Provider | None = None,
) -> dict[str, Any]:
    """The page's config.json (described in examples/game/src/config.js).

    With a client secret, the page's token requests go to the demo's token relay, which adds
    the secret; the secret itself is never in config.json.
    """
    origin = ports.url("game")
    token_endpoint = endpoints.token_endpoint
    if provider is not None and provider.client_secret is not None:
        token_endpoint = f"{origin}{RELAY_PATH}"
    return {
        "region": game.region,
        "identityPoolId": game.pool_id,
        "webfedEndpoint": ports.url("webfed"),
        "cognitoIdentityEndpoint": f"{origin}/cognito-identity" if relay else ports.url("webfed"),
        "s3Endpoint": ports.url("s3"),
        "dynamodbEndpoint": ports.url("dynamodb"),
        "bucket": BUCKET,
        "table": TABLE,
        "oidc": {
            "issuer": game.issuer,
            "authorizationEndpoint": endpoints.authorization_endpoint,
            "tokenEndpoint": token_endpoint,
            "clientId": game.client_id,
            "loginKey": game.login_key,
            "scope": provider.scope if provider is not None else DEFAULT_SCOPE,
        },
        "adminDecodeUrl": "/admin/decode",
    }


def main_listener_allows(origin: str, webfed_url: str) -> bool:
    """Whether webfed's main listener answers a browser's CORS preflight from ``origin``."""
    with contextlib.suppress(httpx.HTTPError):
        response = httpx.options(
            f"{webfed_url}/",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
            },
            timeout=5.0,
        )
        allowed = response.headers.get("access-control-allow-origin")
        return response.status_code < 300 and allowed in (origin, "*")
    return False
