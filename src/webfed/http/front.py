"""The AWS endpoint's short way in: ``GET /`` and ``POST /`` straight to the dispatcher.

Every AWS call arrives on ``/``. Through Starlette it passes two middleware layers, the router's
match against every route, and two wrappers before reaching
:func:`~webfed.http.dispatch.handle_aws_request`; :class:`AwsFrontDoor` hands such a request
to the dispatcher directly (:func:`~webfed.http.dispatch.answer_aws_call`: ASGI scope and
messages in, status, header lines and body out, with no Starlette ``Request`` or ``Response``
built on the way) and everything else (``/healthz``, ``/metrics``, the decision endpoint,
lifespan events, ``HEAD /``) to the Starlette application unchanged. As Starlette's error
middleware does, an exception the dispatcher did not turn into an AWS error is logged and
answered with a plain 500.

It also speaks CORS on ``/``, as AWS's endpoints do, so a browser app (the AWS SDK for
JavaScript's ``fromCognitoIdentityPool``, ``fromWebToken``) can call Cognito Identity and STS
directly: preflights for the allowed origins (setting ``cors_origins``, any origin by default)
are answered here, and AWS responses carry ``Access-Control-Allow-Origin``. No origin ever gets
credentials mode: SigV4 and bearer tokens travel in headers the page sets, never in cookies.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from webfed.gateway.cors import CorsPolicy
from webfed.http.dispatch import AwsReply, answer_aws_call
from webfed.logs import get_logger

__all__ = ["AwsFrontDoor"]

_log = get_logger("webfed.http")
_AWS_METHODS = frozenset({"GET", "POST"})
_INTERNAL_ERROR = b"Internal Server Error"


def _internal_error() -> AwsReply:
    """Starlette's plain-text 500, header for header."""
    headers = [
        (b"content-length", b"%d" % len(_INTERNAL_ERROR)),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]
    return AwsReply(500, headers, _INTERNAL_ERROR)


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
        try:
            reply = await answer_aws_call(self.app, scope, receive)
        except ClientDisconnect:
            return  # gone before its body arrived: nobody to answer
        except Exception:  # the dispatcher answers every AWS error itself; this is a bug
            _log.exception("unhandled error outside the dispatcher")
            reply = _internal_error()
        if self.cors.origins:
            reply.headers += self.cors.response_headers(_origin(scope)[0])
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        )
        await send({"type": "http.response.body", "body": reply.body})

    async def _preflight(self, send: Send, origin: str | None, requested: bytes | None) -> None:
        status, headers = self.cors.preflight(
            origin, requested.decode("latin-1") if requested is not None else None
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
