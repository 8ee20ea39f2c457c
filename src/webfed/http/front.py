"""The AWS endpoint's short way in: ``GET /`` and ``POST /`` straight to the dispatcher.

Every AWS call arrives on ``/``. Through Starlette it passes two middleware layers, the router's
match against every route, and two wrappers before reaching
:func:`~webfed.http.dispatch.handle_aws_request`; :class:`AwsFrontDoor` hands such a request
to the dispatcher directly and everything else (``/healthz``, ``/metrics``, the decision
endpoint, lifespan events, ``HEAD /``) to the Starlette application unchanged. As Starlette's
error middleware does, an exception the dispatcher did not turn into an AWS error is logged
and answered with a plain 500.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

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


class AwsFrontDoor:
    """An ASGI application: AWS calls to the dispatcher, the rest to ``app``."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        await response(scope, receive, send)
