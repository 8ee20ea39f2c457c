"""The gateway's ASGI application: one per process, fronting one upstream service.

A plain ASGI callable rather than a framework app: every request takes the same path, and the
gateway's added latency is the product (``bench/gateway.py``). It answers CORS preflights,
hands every other request to the service's handler (:class:`S3Gateway` or
:class:`DynamoDBGateway`), and turns any :class:`~webfed.errors.WebfedError` into the error
body of the client's protocol, with a request id. Health is ``GET /__webfed/healthz``, answered 200
once started (bucket names start with a letter or digit, so this is never an S3 path);
``GET /__webfed/livez`` answers 200 while the process runs, and ``GET /__webfed/readyz`` 200
only when started and the ``probe`` (the factory's: a database ping) finds nothing wrong, else
503 with the reason in JSON, as ``webfed serve``'s ``/readyz`` does. ``GET /__webfed/metrics``
serves the process's Prometheus metrics (:mod:`webfed.gateway.metrics`); every other request is
counted there by operation and status when its answer is done.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from webfed.errors import InternalFailure, WebfedError
from webfed.gateway import metrics
from webfed.gateway.audit import GatewayRecord
from webfed.gateway.body import ClientDisconnected, Receive
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.errors import ErrorResponse, dynamodb_error, s3_error_response
from webfed.gateway.proxy import Send
from webfed.http.metrics import CONTENT_TYPE
from webfed.logs import get_logger

__all__ = [
    "HEALTH_PATH",
    "LIVENESS_PATH",
    "METRICS_PATH",
    "READINESS_PATH",
    "GatewayApp",
    "Handler",
]

HEALTH_PATH = "/__webfed/healthz"
LIVENESS_PATH = "/__webfed/livez"
READINESS_PATH = "/__webfed/readyz"
METRICS_PATH = "/__webfed/metrics"
CLIENT_GONE = 499
"""The status counted for a request whose client left before an answer was started."""
_JSON = [(b"content-type", b"application/json")]
_METRICS_HEADERS = [(b"content-type", CONTENT_TYPE.encode())]
_log = get_logger("webfed.gateway")
Scope = MutableMapping[str, Any]


class Handler(Protocol):
    async def handle(
        self, scope: Scope, receive: Receive, send: Send, record: GatewayRecord
    ) -> None: ...


class GatewayApp:
    """ASGI entry point. ``start``/``stop`` run from the lifespan protocol (or by the caller)."""

    def __init__(
        self,
        service: str,
        cors: CorsPolicy,
        *,
        start: Callable[[], Awaitable[Handler]],
        stop: Callable[[], Awaitable[None]],
        rng: random.Random | None = None,
        finished: Callable[[GatewayRecord], None] | None = None,
        probe: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:
        if service not in ("s3", "dynamodb"):
            raise ValueError("service must be 's3' or 'dynamodb'")
        self.service = service
        self.cors = cors
        self._start = start
        self._stop = stop
        self._rng = rng or random.SystemRandom()
        self.finished = finished
        """Called with each finished request's record (audit; traces wrap it)."""
        self._probe = probe
        self._stopping = False
        self.handler: Handler | None = None
        metrics.declare(service)

    async def startup(self) -> None:
        if self.handler is None:
            self.handler = await self._start()

    async def shutdown(self) -> None:
        self._stopping = True
        if self.handler is not None:
            self.handler = None
            await self._stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    _log.error("gateway failed to start", error=str(error))
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _request_id(self) -> str:
        return f"{self._rng.getrandbits(64):016X}"

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.lower(): value for name, value in scope["headers"]}
        origin = headers.get(b"origin")
        origin_text = origin.decode("latin-1") if origin is not None else None
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            requested = headers.get(b"access-control-request-headers")
            status, cors_headers = self.cors.preflight(
                origin_text, requested.decode("latin-1") if requested else None
            )
            await _respond(send, (status, cors_headers, b""))
            return
        if scope["path"] == HEALTH_PATH:
            ready = self.handler is not None
            await _respond(send, (200 if ready else 503, [], b"ok" if ready else b"starting"))
            return
        if scope["path"] == LIVENESS_PATH:
            await _respond(send, (200, _JSON, b'{"status":"alive"}'))
            return
        if scope["path"] == READINESS_PATH:
            await _respond(send, await self._readiness())
            return
        if scope["path"] == METRICS_PATH and scope["method"] == "GET":
            await _respond(send, (200, _METRICS_HEADERS, metrics.render()))
            return
        await self._dispatch(scope, receive, send, origin_text)

    async def _readiness(self) -> ErrorResponse:
        if self._stopping:
            problem: str | None = "shutting down"
        elif self.handler is None:
            problem = "starting"
        else:
            problem = await self._probe() if self._probe is not None else None
        if problem is None:
            return 200, _JSON, b'{"status":"ok"}'
        body = json.dumps({"status": "unavailable", "reason": problem}).encode()
        return 503, _JSON, body

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, origin: str | None
    ) -> None:
        began = time.perf_counter()
        status = 0

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        record = self._record(scope)
        try:
            if self.handler is None:
                raise InternalFailure("The gateway is not started.")
            await self.handler.handle(scope, receive, tracking_send, record)
        except ClientDisconnected:
            pass
        except WebfedError as error:
            record.error = error
            metrics.observe_rejection(self.service, error)
            if not status:
                await self._error(tracking_send, error, record.request_id, origin, scope)
        except Exception:
            _log.exception("gateway request failed", request_id=record.request_id)
            failure = InternalFailure("We encountered an internal error. Please try again.")
            record.error = failure
            if not status:
                await self._error(tracking_send, failure, record.request_id, origin, scope)
        if self.finished is not None:
            self.finished(record)
        metrics.observe_request(
            self.service, record.operation, status or CLIENT_GONE, time.perf_counter() - began
        )

    def _record(self, scope: Scope) -> GatewayRecord:
        client = scope.get("client")
        agent = b""
        for name, value in scope["headers"]:
            if name.lower() == b"user-agent":
                agent = value
                break
        return GatewayRecord(
            service=self.service,
            request_id=self._request_id(),
            source_ip=str(client[0]) if client else "",
            user_agent=agent.decode("latin-1")[:256],
        )

    async def _error(
        self, send: Send, error: WebfedError, request_id: str, origin: str | None, scope: Scope
    ) -> None:
        if self.service == "s3":
            raw_path: bytes = scope.get("raw_path") or b"/"
            resource = raw_path.decode("latin-1")
            status, headers, body = s3_error_response(
                error, request_id=request_id, resource=resource
            )
        else:
            status, headers, body = dynamodb_error(error, request_id=request_id)
        headers = headers + self.cors.response_headers(origin)
        if _may_have_unread_body(scope):
            # The body may still be on the wire (e.g. after ``Expect: 100-continue``): this
            # connection cannot carry another request.
            headers.append((b"connection", b"close"))
        if scope["method"] == "HEAD":
            body = b""
        await _respond(send, (status, headers, body))


def _may_have_unread_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (lowered == b"content-length" and value != b"0"):
            return True
    return False


async def _respond(send: Send, response: ErrorResponse) -> None:
    status, headers, body = response
    if not any(name == b"content-length" for name, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
