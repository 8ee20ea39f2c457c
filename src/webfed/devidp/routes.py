"""The development provider over HTTP, under ``/dev-idp`` (mounted only with ``--dev-idp``).

- ``GET  /dev-idp/.well-known/openid-configuration``: discovery (OpenID Connect Discovery 1.0);
- ``GET  /dev-idp/jwks.json``: the public key (RFC 7517 section 5);
- ``GET  /dev-idp/authorize``: the sign-in page for an authorization request;
- ``POST /dev-idp/authorize``: the page's form: a code, by a 303 to the redirection URI; or,
  with neither ``username`` nor ``decision``, an authorization request sent as a form (OpenID
  Connect Core 1.0 section 3.1.2.1): the sign-in page, as for ``GET``;
- ``POST /dev-idp/token``: code + PKCE verifier for tokens (RFC 6749 4.1.3, RFC 7636 4.5),
  public clients only: an ``Authorization`` header is refused (401, RFC 6749 section 5.2);
- ``GET|POST /dev-idp/userinfo``: the user's claims for the access token.

Discovery, JWK Set, token and userinfo answer any origin (``Access-Control-Allow-Origin: *``,
and preflights), so a single-page app on another port can run the whole flow; no cookies are
involved anywhere, so no credentials are allowed across origins.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from webfed.devidp.authorization import (
    AuthorizationError,
    AuthorizationRequest,
    UnsafeRedirect,
    is_loopback_host,
    parse_authorization_request,
    single_values,
)
from webfed.devidp.claims import check_username, parse_extra_claims
from webfed.devidp.page import SECURITY_HEADERS, error_page, sign_in_page
from webfed.devidp.provider import MOUNT_PATH, DevIdentityProvider, TokenError, TokenRequest
from webfed.errors import RequestEntityTooLarge, RequestTimeout
from webfed.http.body import read_body
from webfed.issuer import IssuerKeys
from webfed.logs import get_logger
from webfed.settings import Settings

if TYPE_CHECKING:
    from webfed.runtime import Runtime

__all__ = ["build_routes"]

_log = get_logger("webfed.devidp")
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 65536
_MAX_FIELDS = 64
_CORS = {"Access-Control-Allow-Origin": "*"}
_PREFLIGHT = {
    **_CORS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM_FIELDS = frozenset({"username", "claims", "decision"})
_SIGN_IN_FIELDS = frozenset({"username", "decision"})


class _BadForm(ValueError):
    """The body is not a form this endpoint reads (wrong type, too large, not decodable, late)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def _read_form(request: Request, timeout: float) -> list[tuple[str, str]]:
    """The ``application/x-www-form-urlencoded`` body's pairs: at most 64 KiB, arriving within
    ``timeout`` seconds (``request_body_timeout_seconds``, as for AWS calls)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != _FORM:
        raise _BadForm(f"the body must be {_FORM}")
    declared = request.headers.get("content-length")
    try:
        body = await read_body(request.receive, declared, _MAX_FORM_BYTES, timeout)
    except RequestEntityTooLarge:
        raise _BadForm("the body is too large") from None
    except RequestTimeout:
        raise _BadForm(f"the body did not arrive within {timeout:g} seconds", 408) from None
    except ClientDisconnect:  # nobody reads the answer; it only keeps the error log clean
        _log.info("dev-idp client disconnected before sending the body", path=request.url.path)
        raise _BadForm("the client disconnected before sending the body") from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadForm("the body is not UTF-8") from None
    return _parse_pairs(text)


def _parse_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=_MAX_FIELDS)
    except ValueError:  # a bad UTF-8 escape, or too many fields
        raise _BadForm("the parameters are not valid form encoding") from None


def _html(text: str, status: int) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def _see_other(location: str) -> Response:
    return Response(status_code=303, headers={"Location": location, **_NO_STORE})


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return Response(content, status_code=status, media_type=_JSON, headers=headers)


def _token_error(
    error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
) -> Response:
    body = {"error": error, "error_description": description}
    return _json(body, status, {**_CORS, **_NO_STORE, **(headers or {})})


def _body_timeout(request: Request) -> float:
    runtime: Runtime = request.app.state.runtime
    return runtime.settings.request_body_timeout_seconds


class _Endpoints:
    """The route handlers of one application, around its :class:`DevIdentityProvider`."""

    def __init__(self, provider: DevIdentityProvider) -> None:
        self.provider = provider

    async def _keys(self, runtime: Runtime) -> IssuerKeys:
        return await self.provider.prepare(runtime.store, runtime.master_key, runtime.clock())

    async def discovery(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        headers = {**_CORS, "Cache-Control": "public, max-age=300"}
        return Response(self.provider.discovery_body(), media_type=_JSON, headers=headers)

    async def jwks(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        keys = await self._keys(request.app.state.runtime)
        headers = {**_CORS, "Cache-Control": "public, max-age=300"}
        return Response(keys.jwks_body, media_type=_JSON, headers=headers)

    async def authorize(self, request: Request) -> Response:
        """The request from the query (``GET``) or the sign-in form (``POST``); a bad client
        id or redirection URI is shown on the page, any other error goes back to the client."""
        try:
            pairs = (
                await _read_form(request, _body_timeout(request))
                if request.method == "POST"
                else _parse_pairs(request.url.query)
            )
        except _BadForm as error:
            return _html(error_page(str(error)), error.status)
        form = {name: value for name, value in pairs if name in _FORM_FIELDS}
        params, repeated = single_values(pair for pair in pairs if pair[0] not in _FORM_FIELDS)
        try:
            parsed = parse_authorization_request(params, repeated, self.provider.redirects)
        except UnsafeRedirect as error:
            return _html(error_page(str(error)), 400)
        except AuthorizationError as error:
            return _see_other(error.redirect(self.provider.issuer))
        # A POST without the sign-in's own fields is a request by POST (OpenID Connect 3.1.2.1),
        # whose "claims" would be OpenID Connect's claims request (5.5), ignored like on GET.
        if request.method == "GET" or not _SIGN_IN_FIELDS & form.keys():
            hint = parsed.login_hint or ""
            page = sign_in_page(parsed, action=self._action(), username=hint)
            return _html(page, 200)
        return await self._sign_in(request, parsed, form)

    def _action(self) -> str:
        return self.provider.issuer + "/authorize"

    async def _sign_in(
        self, request: Request, parsed: AuthorizationRequest, form: dict[str, str]
    ) -> Response:
        if form.get("decision") == "cancel":
            error = AuthorizationError(
                "access_denied", "the user cancelled", parsed.redirect_uri, parsed.state
            )
            return _see_other(error.redirect(self.provider.issuer))
        username_text, claims_text = form.get("username", ""), form.get("claims", "")
        try:
            username = check_username(username_text)
            claims = parse_extra_claims(claims_text)
        except ValueError as problem:
            page = sign_in_page(
                parsed,
                action=self._action(),
                username=username_text,
                claims=claims_text,
                problem=str(problem),
            )
            return _html(page, 400)
        runtime: Runtime = request.app.state.runtime
        await self._keys(runtime)
        location = self.provider.issue_code(parsed, username, claims, runtime.clock(), runtime.rng)
        _log.info("dev-idp sign-in", client_id=parsed.client_id, username=username)
        return _see_other(location)

    async def token(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        if "authorization" in request.headers:
            return _token_error(
                "invalid_client",
                "clients of this provider are public (token_endpoint_auth_method none): "
                "send client_id in the body and no Authorization header",
                401,
                {"WWW-Authenticate": 'Basic realm="dev-idp"'},
            )
        try:
            params, repeated = single_values(await _read_form(request, _body_timeout(request)))
        except _BadForm as error:
            return _token_error("invalid_request", str(error), error.status)
        try:
            token_request = _token_request(params, repeated)
            runtime: Runtime = request.app.state.runtime
            keys = await self._keys(runtime)
            body = self.provider.redeem(token_request, keys, runtime.clock(), runtime.rng)
        except TokenError as error:
            return _token_error(error.error, error.description, error.status)
        return _json(body, 200, {**_CORS, **_NO_STORE})

    async def userinfo(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PREFLIGHT)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        cors = {**_CORS, "Access-Control-Expose-Headers": "WWW-Authenticate", **_NO_STORE}
        if scheme.lower() != "bearer" or not token.strip():
            challenge = 'Bearer realm="dev-idp"'
            return Response(status_code=401, headers={**cors, "WWW-Authenticate": challenge})
        runtime: Runtime = request.app.state.runtime
        await self._keys(runtime)
        claims = self.provider.userinfo(token.strip(), runtime.clock())
        if claims is None:
            challenge = 'Bearer realm="dev-idp", error="invalid_token"'
            return Response(status_code=401, headers={**cors, "WWW-Authenticate": challenge})
        return _json(claims, 200, cors)


def _token_request(params: dict[str, str], repeated: frozenset[str]) -> TokenRequest:
    if repeated:
        raise TokenError("invalid_request", f"parameters given more than once: {sorted(repeated)}")
    grant_type = params.get("grant_type")
    if not grant_type:
        raise TokenError("invalid_request", "grant_type is required")
    if grant_type != "authorization_code":
        raise TokenError("unsupported_grant_type", "only authorization_code is supported")
    if not params.get("client_id"):
        raise TokenError("invalid_client", "client_id is required (public clients only)")
    missing = [name for name in ("code", "redirect_uri", "code_verifier") if not params.get(name)]
    if missing:
        raise TokenError("invalid_request", f"missing: {', '.join(missing)}")
    return TokenRequest(
        params["code"], params["client_id"], params["redirect_uri"], params["code_verifier"]
    )


_Endpoint = Callable[[Request], Awaitable[Response]]
_NOT_HERE = (
    "The development identity provider answers on loopback listeners only "
    "(the setting dev_idp_force serves it on others).\n"
)
_NOT_THIS_HOST = (
    "The development identity provider answers only to a Host that is a loopback name or "
    "address, or the public URL's host (the setting dev_idp_force serves any).\n"
)


def _host_name(request: Request) -> str | None:
    """The ``Host`` header's name, without port or brackets, lower case; ``None`` if absent
    or malformed."""
    header = request.headers.get("host", "")
    try:
        name = urlsplit(f"//{header}").hostname
    except ValueError:
        return None
    return name or None


def _loopback_only(public_host: str) -> Callable[[_Endpoint], _Endpoint]:
    """A guard: ``endpoint`` for requests that arrived on a loopback address and name a
    loopback host or ``public_host``; 404 or 421 for others.

    ``webfed serve`` already refuses a non-loopback ``--host``; the address check holds for any
    ASGI server that builds the application (``create_app_from_env`` under a ``--host
    0.0.0.0`` of its own): the scope's ``server`` is the local end of the connection. The
    ``Host`` check stops DNS rebinding: a page whose own name was made to resolve to 127.0.0.1
    is same-origin with the provider for the browser, so it could sign in as anyone, follow
    the redirect to a loopback URI that answers CORS, and read the code from its URL.
    """

    def guard(endpoint: _Endpoint) -> _Endpoint:
        async def guarded(request: Request) -> Response:
            server = request.scope.get("server")
            if server is None or not is_loopback_host(str(server[0])):
                return Response(_NOT_HERE, status_code=404, media_type="text/plain")
            name = _host_name(request)
            if name is None or not (name == public_host or is_loopback_host(name)):
                return Response(_NOT_THIS_HOST, status_code=421, media_type="text/plain")
            return await endpoint(request)

        return guarded

    return guard


def build_routes(settings: Settings) -> list[BaseRoute]:
    """The provider's routes, for an application built with these settings.

    Raises ``ValueError`` when ``dev_idp_redirect_uris`` or ``dev_idp_claims`` is invalid.
    """
    endpoints = _Endpoints(DevIdentityProvider(settings))
    public_host = urlsplit(settings.effective_public_url).hostname or ""
    guard: Callable[[_Endpoint], _Endpoint] = (
        (lambda endpoint: endpoint) if settings.dev_idp_force else _loopback_only(public_host)
    )
    return [
        Route(
            f"{MOUNT_PATH}/.well-known/openid-configuration",
            guard(endpoints.discovery),
            methods=["GET", "OPTIONS"],
        ),
        Route(f"{MOUNT_PATH}/jwks.json", guard(endpoints.jwks), methods=["GET", "OPTIONS"]),
        Route(f"{MOUNT_PATH}/authorize", guard(endpoints.authorize), methods=["GET", "POST"]),
        Route(f"{MOUNT_PATH}/token", guard(endpoints.token), methods=["POST", "OPTIONS"]),
        Route(
            f"{MOUNT_PATH}/userinfo",
            guard(endpoints.userinfo),
            methods=["GET", "POST", "OPTIONS"],
        ),
    ]
