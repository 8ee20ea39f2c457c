"""``WebfedAuthMiddleware``: an ASGI application accepts webfed credentials in a few lines.

Every HTTP request must be SigV4-signed (service name ``execute-api`` by default, as for API
Gateway's IAM authorization, or the route table's ``service``) with webfed's temporary
credentials or the administrator's key. The middleware verifies the signature, maps the request
to an action and a resource through a :class:`~webfed.asgi.routes.RouteTable`, and asks the
:class:`~webfed.authorizer.Authorizer`. Allowed: the application runs, with the
:class:`~webfed.authorize.AuthorizationResult` in ``scope["state"]["webfed"]`` (read it with
``webfed_auth(request)`` in a Starlette or FastAPI handler). Refused: the middleware answers
``{"__type": "AccessDeniedException", "message": ...}`` itself, 401 without credentials, 403
for any other refusal, 400 for a malformed signature, 413 for a body above the cap, 408 for a
body that does not arrive within ``body_timeout_seconds`` (30 by default).

The body is read (up to the cap) to check the signed payload digest, then replayed to the
application unchanged. Websocket connections are refused (close code 1008); lifespan events and
the ``exempt`` paths (a health check, say) pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webfed.asgi.exchange import error_body, error_status, header_map, http_request, peer_address
from webfed.asgi.routes import RouteRule, RouteTable
from webfed.authorize import AuthorizationResult
from webfed.authorizer import Authorizer
from webfed.core.sigv4 import STANDARD_RULES, HttpRequest, SigningRules
from webfed.errors import AccessDenied, WebfedError
from webfed.http.body import read_body
from webfed.verify import VerifiedCaller

__all__ = [
    "DEFAULT_BODY_TIMEOUT_SECONDS",
    "DEFAULT_MAX_BODY_BYTES",
    "STATE_KEY",
    "WebfedAuthMiddleware",
    "authorize_route",
    "send_error",
    "webfed_auth",
]

STATE_KEY = "webfed"
DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_BODY_TIMEOUT_SECONDS = 30.0
_POLICY_VIOLATION = 1008


def webfed_auth(connection: HTTPConnection) -> AuthorizationResult:
    """The caller and decision the middleware put on this request."""
    result: AuthorizationResult = connection.scope["state"][STATE_KEY]
    return result


class WebfedAuthMiddleware:
    """See the module docstring. ``authorizer`` may be a function returning it, for apps that
    open their :class:`Authorizer` in their lifespan (``lambda: app.state.authorizer``)."""

    def __init__(
        self,
        app: ASGIApp,
        authorizer: Authorizer | Callable[[], Authorizer],
        routes: RouteTable | Sequence[RouteRule] = (),
        *,
        service: str | None = None,
        rules: SigningRules = STANDARD_RULES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS,
        exempt: Collection[str] = (),
    ) -> None:
        self.app = app
        self.authorizer = authorizer
        self.routes = routes if isinstance(routes, RouteTable) else RouteTable(tuple(routes))
        self.service = service or self.routes.service
        self.rules = rules
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
            return
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(
                receive,
                _content_length(scope),
                self.max_body_bytes,
                self.body_timeout_seconds,
            )
            result = await self.authorize(scope, http_request(scope, body))
        except ClientDisconnect:
            return
        except WebfedError as error:
            await send_error(send, error)
            return
        state = dict(scope.get("state") or {})
        state[STATE_KEY] = result
        await self.app({**scope, "state": state}, _replay(body, receive), send)

    async def authorize(self, scope: Scope, request: HttpRequest) -> AuthorizationResult:
        """Verify, route and decide; raise the webfed error that refuses the request."""
        authorizer = (
            self.authorizer if isinstance(self.authorizer, Authorizer) else self.authorizer()
        )
        caller = authorizer.verifier.verify(
            request, rules=self.rules, service=self.service, region=authorizer.region
        )
        return await authorize_route(
            authorizer,
            self.routes,
            caller,
            request,
            source_ip=peer_address(scope),
            secure_transport=scope.get("scheme") in ("https", "wss"),
        )


async def authorize_route(
    authorizer: Authorizer,
    routes: RouteTable,
    caller: VerifiedCaller,
    request: HttpRequest,
    *,
    source_ip: str | None,
    secure_transport: bool | None,
) -> AuthorizationResult:
    """Map ``request`` through ``routes`` and decide; raise ``AccessDenied`` when refused."""
    route = routes.resolve(
        request.method,
        request.raw_path,
        request.raw_query,
        header_map(request),
        region=authorizer.region,
        account=authorizer.account_id,
    )
    if route is None:
        raise AccessDenied(
            f"User: {caller.arn} is not authorized to perform: {request.method} on this path "
            "because no route of this API names it"
        )
    result = await authorizer.decide(
        caller,
        action=route.action,
        resource=route.resource,
        context=route.context,
        source_ip=source_ip,
        secure_transport=secure_transport,
    )
    result.raise_for_denial()
    return result


def _content_length(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return str(value.decode("latin-1"))
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def send_error(
    send: Send, error: WebfedError, *, allowed: tuple[int, ...] | None = None
) -> None:
    """Answer ``error`` as ``{"__type", "message"}`` JSON."""
    body, headers = error_body(error)
    raw_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    status = error_status(error, allowed=allowed)
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
