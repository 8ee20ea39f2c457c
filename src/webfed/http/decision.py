"""Decision endpoints for proxies: Envoy ``ext_authz`` (HTTP service) and nginx ``auth_request``.

A proxy in front of any HTTP API asks webfed, per request, "may this signed request pass?":

* **Envoy** (``envoy.filters.http.ext_authz`` with an ``http_service`` whose ``path_prefix`` is
  ``/_webfed/authz/envoy``) sends the original method, the prefix plus the original path and
  query, and the allowed headers, with the body when ``with_request_body`` is set (then it adds
  ``x-envoy-auth-partial-body``). A 200 lets the request through; any other status is sent to the
  client as the denial, body and all.
* **nginx** (``auth_request`` to a location proxied to ``/_webfed/authz/nginx``) sends a
  subrequest without body, carrying the original request line in ``X-Original-URI`` and
  ``X-Original-Method``. A 2xx allows; 401 and 403 deny (any other status is an error to nginx,
  so only those two are answered).

The original ``Host`` is taken from ``X-Original-Host`` when present (nginx rewrites ``Host``).
The proxy reports the client's address in ``X-Webfed-Source-Ip`` (``aws:SourceIp``) and the
scheme in ``X-Forwarded-Proto`` (``aws:SecureTransport``); it must overwrite both. When the body
is not forwarded, a declared ``x-amz-content-sha256`` is trusted as signed (the signature covers
it) but not compared with a body webfed never saw.

An allowed answer carries the caller to the upstream: ``x-webfed-principal-arn``,
``x-webfed-user-id``, ``x-webfed-account``, ``x-webfed-action``, ``x-webfed-resource``. The route
table (``WEBFED_AUTHZ_ROUTES``: a YAML file, see ``docs/authorization.md``) maps requests to
actions and resources; without one every request is ``execute-api:Invoke`` on
``arn:aws:execute-api:REGION:ACCOUNT:api/METHOD/PATH``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from webfed.asgi.exchange import error_body, error_status, http_request
from webfed.asgi.middleware import authorize_route
from webfed.asgi.routes import RouteTable, load_route_table
from webfed.authorize import AuthorizationResult
from webfed.authorizer import Authorizer
from webfed.core.sigv4 import STANDARD_RULES, HttpRequest
from webfed.errors import IncompleteSignature, WebfedError
from webfed.http.body import read_body
from webfed.runtime import Runtime

__all__ = ["ENVOY_PREFIX", "NGINX_PATH", "ROUTES", "ROUTES_ENV"]

ENVOY_PREFIX = "/_webfed/authz/envoy"
NGINX_PATH = "/_webfed/authz/nginx"
ROUTES_ENV = "WEBFED_AUTHZ_ROUTES"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_NGINX_STATUSES = (401, 403)


def _authorizer(request: Request) -> tuple[Authorizer, RouteTable]:
    """One authorizer per app, sharing the server's caches; the route table read once."""
    state = request.app.state
    found: tuple[Authorizer, RouteTable] | None = getattr(state, "webfed_decisions", None)
    if found is None:
        runtime: Runtime = state.runtime
        path = os.environ.get(ROUTES_ENV)
        table = load_route_table(Path(path)) if path else RouteTable()
        found = (Authorizer.from_runtime(runtime), table)
        state.webfed_decisions = found
    return found


async def _decide(
    request: Request, original: HttpRequest, *, body_known: bool
) -> AuthorizationResult:
    authorizer, table = _authorizer(request)
    rules = STANDARD_RULES if body_known else replace(STANDARD_RULES, check_declared_payload=False)
    caller = authorizer.verifier.verify(
        original, rules=rules, service=table.service, region=authorizer.region
    )
    proto = request.headers.get("x-forwarded-proto")
    return await authorize_route(
        authorizer,
        table,
        caller,
        original,
        source_ip=request.headers.get("x-webfed-source-ip") or None,
        secure_transport=None if proto is None else proto.lower() == "https",
    )


def _allowed(result: AuthorizationResult) -> Response:
    caller = result.caller
    headers = {
        "x-webfed-principal-arn": caller.arn,
        "x-webfed-user-id": caller.user_id,
        "x-webfed-account": caller.account,
        "x-webfed-action": result.action,
        "x-webfed-resource": result.resource,
    }
    return Response(status_code=200, headers=headers)


def _refused(error: WebfedError, *, allowed: tuple[int, ...] | None = None) -> Response:
    body, headers = error_body(error)
    return Response(body, error_status(error, allowed=allowed), headers=dict(headers))


async def _envoy(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    raw_path = (request.scope.get("raw_path") or request.scope["path"].encode()).decode(
        "utf-8", "surrogateescape"
    )
    path = raw_path[len(ENVOY_PREFIX) :] or "/"
    query = request.scope.get("query_string", b"").decode("utf-8", "surrogateescape")
    target = f"{path}?{query}" if query else path
    body_known = "x-envoy-auth-partial-body" in request.headers
    settings = runtime.settings
    try:
        body = (
            await read_body(
                request.receive,
                request.headers.get("content-length"),
                settings.max_request_body_bytes,
                settings.request_body_timeout_seconds,
            )
            if body_known
            else b""
        )
        original = http_request(
            request.scope, body, target=target, host=request.headers.get("x-original-host")
        )
        result = await _decide(request, original, body_known=body_known)
    except ClientDisconnect:
        return Response(status_code=400)  # Envoy gave up on the check: nobody reads this
    except WebfedError as error:
        return _refused(error)
    return _allowed(result)


async def _nginx(request: Request) -> Response:
    target = request.headers.get("x-original-uri")
    method = request.headers.get("x-original-method")
    try:
        if not target or not target.startswith("/") or not method:
            raise IncompleteSignature(
                "The proxy must send X-Original-URI and X-Original-Method with the subrequest."
            )
        original = http_request(
            request.scope,
            b"",
            target=target,
            method=method.upper(),
            host=request.headers.get("x-original-host"),
        )
        result = await _decide(request, original, body_known=False)
    except WebfedError as error:
        return _refused(error, allowed=_NGINX_STATUSES)
    return _allowed(result)


ROUTES = [
    Route(ENVOY_PREFIX, _envoy, methods=_METHODS),
    Route(ENVOY_PREFIX + "/{path:path}", _envoy, methods=_METHODS),
    Route(NGINX_PATH, _nginx, methods=_METHODS),
]
