"""The AWS endpoint's short way in: ``GET /`` and ``POST /`` straight to the dispatcher.

Every AWS call arrives on ``/``. Through Starlette it passes two middleware layers, the router's
match against every route, and two wrappers before reaching
:func:`~webfed.http.dispatch.handle_aws_request`; :class:`AwsFrontDoor` hands such a request
to the dispatcher directly and everything else (``/healthz``, ``/metrics``, the decision
endpoint, lifespan events, ``HEAD /``) to the Starlette application unchanged. As Starlette's
error middleware does, an exception the dispatcher did not turn into an AWS error is logged
and answered with a plain 500.

It also speaks CORS on ``/``, as AWS's endpoints do, so a browser app (the AWS SDK for
JavaScript's ``fromCognitoIdentityPool``, ``fromWebToken``) can call Cognito Identity and STS
directly: preflights for the allowed origins (setting ``cors_origins``, any origin by default)
are answered here, and AWS responses carry ``Access-Control-Allow-Origin``. No origin ever gets
credentials mode: SigV4 and bearer tokens travel in headers the page sets, never in cookies.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from webfed.gateway.cors import CorsPolicy
from webfed.http.dispatch import handle_aws_request
from webfed.logs import get_logger

__all__ = ["AwsFrontDoor"]

_log = get_logger("webfed.http")
_AWS_METHODS = frozenset({"GET", "POST"})


def _is_aws_call(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["path"] == "/"
        and not scope.get("root_path")
        and scope["method"] in _AWS_METHODS
    )


def _origin(scope: Scope) -> tuple[str | None, bytes | None, bool]:
    """The request's ``Origin``, its requested headers, and whether it is a CORS preflight."""
    origin: str | None = None
    requested: bytes | None = None
    preflight = False
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == b"origin":
            origin = value.decode("latin-1")
        elif lowered == b"access-control-request-method":
            preflight = True
        elif lowered == b"access-control-request-headers":
            requested = value
    return origin, requested, preflight


class AwsFrontDoor:
    """An ASGI application: AWS calls to the dispatcher, the rest to ``app``."""

    def __init__(self, app: Starlette, cors: CorsPolicy | None = None) -> None:
        self.app = app
        self.cors = cors or CorsPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] == "OPTIONS":
            origin, requested, preflight = _origin(scope)
            if preflight:
                await self._preflight(send, origin, requested)
                return
        if not _is_aws_call(scope):
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app  # what request.app is under Starlette
        response: Response
        try:
            response = await handle_aws_request(Request(scope, receive))
        except Exception:  # the dispatcher answers every AWS error itself; this is a bug
            _log.exception("unhandled error outside the dispatcher")
            response = PlainTextResponse("Internal Server Error", status_code=500)
        if self.cors.origins:
            origin = _origin(scope)[0]
            for name, value in self.cors.response_headers(origin):
                response.raw_headers.append((name, value))
        await response(scope, receive, send)

    async def _preflight(self, send: Send, origin: str | None, requested: bytes | None) -> None:
        status, headers = self.cors.preflight(
            origin, requested.decode("latin-1") if requested is not None else None
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
