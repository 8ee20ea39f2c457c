"""The token relay, ``POST /oidc/token``: the page's authorization-code request passed on to the
provider with the client secret added (RFC 6749 section 2.3.1), which never reaches the
browser."""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import httpx
from starlette.requests import ClientDisconnect

from webfed.demo.provider import json_object
from webfed.errors import RequestEntityTooLarge, RequestTimeout
from webfed.http.body import read_body

__all__ = [
    "RELAY_PATH",
    "TokenRelay",
    "client_authentication",
    "token_endpoint",
    "token_form",
]

RELAY_PATH = "/oidc/token"
_TOKEN_PARAMETERS = ("grant_type", "code", "redirect_uri", "client_id", "code_verifier")
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1
_MAX_CODE = 2048
_MAX_TOKEN_REQUEST = 8192
_MAX_TOKEN_RESPONSE = 64 * 1024
#: How long the page's server waits for a request's body (webfed's own default).
BODY_TIMEOUT_SECONDS = 30.0
_TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class TokenRelay:
    """``POST /oidc/token``: the page's token request, sent on with the client secret."""

    token_endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    client_authentication: str  # client_secret_basic or client_secret_post
    redirect_uris: tuple[str, ...]  # the page's own addresses


class _RelayRefusal(Exception):
    """A token request the relay does not pass on: an RFC 6749 section 5.2 error."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


def client_authentication(
    method: str, client_id: str, client_secret: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and form fields authenticating a client (RFC 6749 section 2.3.1).

    ``client_secret_basic``: HTTP Basic, the id and secret each form-urlencoded first;
    ``client_secret_post``: both in the body.
    """
    if method == "client_secret_basic":
        pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
        encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}, {}
    if method == "client_secret_post":
        return {}, {"client_id": client_id, "client_secret": client_secret}
    raise ValueError(f"unknown client authentication method {method!r}")


def token_form(body: bytes, relay: TokenRelay) -> dict[str, str]:
    """The page's token request, checked: the authorization code grant with PKCE, only.

    RFC 6749 section 4.1.3 (each parameter at most once, section 3.2) and RFC 7636 section 4.5.
    """
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=8
        )
    except ValueError as error:
        raise _RelayRefusal(400, "invalid_request", "send a form-encoded token request") from error
    form = dict(pairs)
    if len(form) != len(pairs):
        raise _RelayRefusal(400, "invalid_request", "a parameter is repeated")
    if "grant_type" not in form:
        raise _RelayRefusal(400, "invalid_request", "grant_type is missing")
    if form["grant_type"] != "authorization_code":
        raise _RelayRefusal(
            400, "unsupported_grant_type", "the relay passes on authorization codes only"
        )
    unexpected = sorted(set(form) - set(_TOKEN_PARAMETERS))
    if unexpected:
        raise _RelayRefusal(400, "invalid_request", f"unexpected parameter {unexpected[0][:40]}")
    if form.get("client_id", relay.client_id) != relay.client_id:
        raise _RelayRefusal(401, "invalid_client", "not the page's client id")
    if not 0 < len(form.get("code", "")) <= _MAX_CODE:
        raise _RelayRefusal(400, "invalid_request", "code is missing or too long")
    if not _CODE_VERIFIER.fullmatch(form.get("code_verifier", "")):
        raise _RelayRefusal(400, "invalid_request", "code_verifier (RFC 7636) is required")
    if form.get("redirect_uri") not in relay.redirect_uris:
        raise _RelayRefusal(400, "invalid_request", "redirect_uri is not the page's")
    return {name: form[name] for name in ("grant_type", "code", "redirect_uri", "code_verifier")}


async def _read_body(request: Any, limit: int) -> bytes:
    """The request's body, refused (413) past ``limit`` bytes, announced or not."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit():
        raise _RelayRefusal(413, "invalid_request", f"the body is larger than {limit} bytes")
    try:
        return await read_body(request.receive, declared, limit, BODY_TIMEOUT_SECONDS)
    except RequestEntityTooLarge as large:
        raise _RelayRefusal(
            413, "invalid_request", f"the body is larger than {limit} bytes"
        ) from large
    except RequestTimeout as late:
        raise _RelayRefusal(408, "invalid_request", "the body arrived too slowly") from late
    except ClientDisconnect as gone:  # nobody left to answer; nothing sent upstream
        raise _RelayRefusal(400, "invalid_request", "the page went away mid-request") from gone


async def _exchange(relay: TokenRelay, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The provider's answer to the code, with the client authenticated by its secret.

    No redirect is followed and at most ``_MAX_TOKEN_RESPONSE`` bytes are read. The refresh
    token is dropped: the page never uses one, and it would outlive the sign-in in the browser.
    """
    headers, credentials = client_authentication(
        relay.client_authentication, relay.client_id, relay.client_secret
    )
    unreachable = _RelayRefusal(
        502, "temporarily_unavailable", "the provider's token endpoint did not answer usably"
    )
    try:
        async with (
            httpx.AsyncClient(timeout=10.0, follow_redirects=False) as http,
            http.stream(
                "POST",
                relay.token_endpoint,
                data={**form, **credentials},
                headers={"Accept": "application/json", **headers},
            ) as response,
        ):
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > _MAX_TOKEN_RESPONSE:
                    raise unreachable
            status = response.status_code
    except httpx.HTTPError as error:
        raise unreachable from error
    answer = json_object(body)
    if answer is None or not (status == 200 or 400 <= status < 500):
        raise unreachable
    answer.pop("refresh_token", None)
    return status, answer


def token_endpoint(
    relay: TokenRelay, from_the_page: Callable[[Any], bool]
) -> Callable[[Any], Awaitable[Any]]:
    """``POST /oidc/token``, for the page alone: ``from_the_page`` tells its requests apart
    (the page's server decides, see :func:`webfed.demo.page.from_the_page`)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def token(request: Request) -> Response:
        try:
            if not from_the_page(request):
                raise _RelayRefusal(403, "access_denied", "the page's own origin only")
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/x-www-form-urlencoded":
                raise _RelayRefusal(415, "invalid_request", "send a form-encoded token request")
            form = token_form(await _read_body(request, _MAX_TOKEN_REQUEST), relay)
            status, answer = await _exchange(relay, form)
        except _RelayRefusal as refusal:
            status, answer = refusal.status, refusal.body
        # RFC 6749 section 5.1: token responses are never cached.
        return JSONResponse(answer, status_code=status, headers=_TOKEN_HEADERS)

    return token
