"""OpenTelemetry traces, off by default (``WEBFED_OTEL_EXPORTER``; ``docs/tracing.md``).

Off, nothing here is imported: the app factories test the setting once, at construction, and
only then call :func:`instrument_server` or :func:`instrument_gateway`, which wrap the ASGI
application once. On, every request gets a server span and, where cheap, child spans:

* the server span is named ``<service>.<operation>`` (``sts.AssumeRoleWithWebIdentity``,
  ``s3.GetObject``) or, outside the AWS endpoint, ``<METHOD> /<first path segment>``; its
  attributes are the RPC and HTTP conventions' (``rpc.system`` ``aws-api``, ``rpc.service``,
  ``rpc.method``, ``http.request.method``, ``http.response.status_code``), ``aws.request_id``,
  and ``error.type`` the AWS error code of a refusal. The operation, request id and error code
  are read from the exchange itself (``X-Amz-Target``, the Query ``Action``, the response's
  request id header and error document), so the request path stays untouched;
* database statements (``SELECT``, ``INSERT``…; SQLAlchemy's engine events), issuer key fetches
  (``jwks.fetch``) and, in a gateway, the upstream call (``upstream <METHOD>``).

Never recorded: headers other than those above, query strings (presigned URLs carry signatures
and session tokens), bodies, statement text or parameters, tokens, keys.

The exporter follows OpenTelemetry's environment variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_SERVICE_NAME``,
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``; ``OTEL_SDK_DISABLED=true``
turns it off again.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webfed.gateway.app import GatewayApp
from webfed.gateway.audit import GatewayRecord
from webfed.gateway.proxy import Upstream
from webfed.jwks.fetch import DocumentFetcher
from webfed.settings import Settings

__all__ = ["EXPORTERS", "enabled", "instrument_gateway", "instrument_server"]

EXPORTERS = ("otlp", "console")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_UNTRACED = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z0-9]{1,64})(?:&|$)")
_XML_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")
_JSON_CODE = re.compile(rb'"__type"\s*:\s*"(?:[^"#]*#)?([A-Za-z0-9.]{1,64})"')
_SCOPE_SERVICE = re.compile(rb"Credential=[^/,]*/\d{8}/[^/,]*/([a-z0-9-]{1,32})/aws4_request")
_JSON_SERVICES = {
    b"AWSCognitoIdentityService": "cognito-identity",
    b"AWSSecurityTokenServiceV20110615": "sts",
}
_SNIFFED_BYTES = 16384
_REQUEST_ID_HEADERS = frozenset({b"x-amzn-requestid", b"x-amz-request-id"})


def enabled(settings: Settings) -> bool:
    """Whether traces are on: an exporter chosen, and not ``OTEL_SDK_DISABLED``."""
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return settings.otel_exporter in EXPORTERS and not disabled


def instrument_server(app: AsgiApp, settings: Settings) -> AsgiApp:
    """``webfed serve``'s application with a server span per request."""
    tracer = _start(settings.otel_exporter, "webfed")
    return _TracedApp(app, tracer, service=None, untraced=_UNTRACED)


def instrument_gateway(app: GatewayApp, settings: Settings) -> AsgiApp:
    """A gateway with a server span per request and a child span per upstream call."""
    tracer = _start(settings.otel_exporter, f"webfed-gateway-{app.service}")
    _trace_upstream(tracer)
    app.finished = _annotating(app.finished)
    probes = frozenset({"/__webfed/healthz", "/__webfed/livez", "/__webfed/readyz"})
    return _TracedApp(app, tracer, service=app.service, untraced=probes | {"/__webfed/metrics"})


# --- the provider ------------------------------------------------------------------------------


def _start(exporter: str, default_name: str) -> Tracer:
    """The process's tracer; the hooks are installed once, whatever the calls."""
    if _TRACERS:
        return _TRACERS[0]
    provider = TracerProvider(resource=_resource(default_name))
    chosen: SpanExporter = ConsoleSpanExporter() if exporter == "console" else _otlp_exporter()
    provider.add_span_processor(BatchSpanProcessor(chosen))
    trace.set_tracer_provider(provider)  # also for other libraries' instrumentation, if any
    tracer = provider.get_tracer("webfed")
    _TRACERS.append(tracer)
    _trace_database()
    _trace_key_fetches(tracer)
    return tracer


def _otlp_exporter() -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: the OTEL_EXPORTER_OTLP_* variables


def _resource(default_name: str) -> Resource:
    """``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` if they name the service."""
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    return Resource.create({} if named else {SERVICE_NAME: default_name})


# --- server spans -------------------------------------------------------------------------------


class _Exchange:
    """What one request and its answer tell about the call, read as they pass."""

    def __init__(self, scope: Scope) -> None:
        self.status = 0
        self.request_id = ""
        self.error_code = ""
        self.target = b""
        self.signed_service = ""
        self.sniff_body = False
        self.body = bytearray()
        self.error_body = bytearray()
        for name, value in scope["headers"]:
            lowered = name.lower()
            if lowered == b"x-amz-target":
                self.target = value
            elif lowered == b"authorization" and (found := _SCOPE_SERVICE.search(value)):
                self.signed_service = found[1].decode()
            elif lowered == b"content-type":
                self.sniff_body = value.startswith(b"application/x-www-form-urlencoded")
        self.query: bytes = scope.get("query_string", b"")

    def receive(self, receive: Receive) -> Receive:
        async def receiving() -> Message:
            message = await receive()
            if self.sniff_body and message["type"] == "http.request":
                room = _SNIFFED_BYTES - len(self.body)
                if room > 0:
                    self.body += message.get("body", b"")[:room]
            return message

        return receiving

    def send(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self._read_headers(message.get("headers", []))
            elif message["type"] == "http.response.body" and self.status >= 400:
                room = _SNIFFED_BYTES - len(self.error_body)
                if room > 0:
                    self.error_body += message.get("body", b"")[:room]
            await send(message)

        return sending

    def _read_headers(self, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            lowered = name.lower()
            if lowered in _REQUEST_ID_HEADERS:
                self.request_id = value.decode("latin-1")[:64]
            elif lowered == b"x-amzn-errortype":
                self.error_code = _name(value.split(b":")[0])

    def service_and_operation(self) -> tuple[str, str]:
        """From ``X-Amz-Target``, else the Query ``Action`` (STS when unsigned)."""
        if self.target:
            prefix, _, target_operation = self.target.partition(b".")
            return _JSON_SERVICES.get(prefix, "unknown"), _name(target_operation)
        found = _ACTION.search(self.query) or _ACTION.search(bytes(self.body))
        action = _name(found[1]) if found else ""
        return (self.signed_service or "sts") if action else "", action

    def aws_error_code(self) -> str:
        if self.error_code or self.status < 400:
            return self.error_code
        found = _XML_CODE.search(self.error_body) or _JSON_CODE.search(self.error_body)
        return _name(found[1]) if found else ""


def _name(value: bytes) -> str:
    text = value.decode("latin-1")
    return text if _NAME.match(text) else ""


class _TracedApp:
    """The application under a server span per HTTP request (probes and scrapes excepted)."""

    def __init__(
        self, app: AsgiApp, tracer: Tracer, *, service: str | None, untraced: frozenset[str]
    ) -> None:
        self.app = app
        self.tracer = tracer
        self.service = service
        self.untraced = untraced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.untraced:
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope)
        method = scope["method"]
        name = f"{method} /{scope['path'].lstrip('/').partition('/')[0]}"
        attributes = {"http.request.method": method}
        with self.tracer.start_as_current_span(
            name, kind=SpanKind.SERVER, attributes=attributes, record_exception=False
        ) as span:
            await self.app(scope, exchange.receive(receive), exchange.send(send))
            self._annotate(span, scope, exchange)

    def _annotate(self, span: trace.Span, scope: Scope, exchange: _Exchange) -> None:
        span.set_attribute("http.response.status_code", exchange.status)
        if exchange.request_id:
            span.set_attribute("aws.request_id", exchange.request_id)
        code = exchange.aws_error_code()
        if code:
            span.set_attribute("error.type", code)
        if exchange.status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        if self.service is not None:  # a gateway: the operation comes from its record
            span.set_attribute("rpc.system", "aws-api")
            span.set_attribute("rpc.service", self.service)
            return
        if scope["path"] != "/":
            return
        service, operation = exchange.service_and_operation()
        if operation:
            span.update_name(f"{service}.{operation}")
            span.set_attribute("rpc.system", "aws-api")
            span.set_attribute("rpc.service", service)
            span.set_attribute("rpc.method", operation)


def _annotating(
    finished: Callable[[GatewayRecord], None] | None,
) -> Callable[[GatewayRecord], None]:
    """The gateway's end-of-request callback, also naming the span after the operation."""

    def annotate(record: GatewayRecord) -> None:
        span = trace.get_current_span()
        if record.operation:
            span.update_name(f"{record.service}.{record.operation}")
            span.set_attribute("rpc.method", record.operation)
        if record.error is not None:
            span.set_attribute("error.type", record.error.code)
        if finished is not None:
            finished(record)

    return annotate


# --- child spans -------------------------------------------------------------------------------

_DATABASE_SPAN = "_webfed_span"
_TRACERS: list[Tracer] = []  # the process's one tracer, once started


def _trace_database() -> None:
    """A client span per statement: its operation (``SELECT``…) and the database system."""
    event.listen(Engine, "before_cursor_execute", _before_statement)
    event.listen(Engine, "after_cursor_execute", _after_statement)
    event.listen(Engine, "handle_error", _failed_statement)


def _before_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    if not trace.get_current_span().is_recording():
        return  # statements outside requests (background refreshes) stay untraced
    words = statement.split(None, 1)
    operation = words[0].upper()[:16] if words else "SQL"
    attributes = {"db.system.name": conn.dialect.name, "db.operation.name": operation}
    span = _TRACERS[0].start_span(operation, kind=SpanKind.CLIENT, attributes=attributes)
    setattr(args[1], _DATABASE_SPAN, span)  # the statement's execution context


def _after_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    span = getattr(args[1], _DATABASE_SPAN, None)
    if span is not None:
        span.end()


def _failed_statement(context: Any) -> None:
    span = getattr(context.execution_context, _DATABASE_SPAN, None)
    if span is not None:
        span.set_status(Status(StatusCode.ERROR))
        span.set_attribute("error.type", type(context.original_exception).__name__)
        span.end()


def _trace_key_fetches(tracer: Tracer) -> None:
    """``jwks.fetch``: one span per discovery document or key set fetched."""
    original = DocumentFetcher.fetch_json

    @functools.wraps(original)
    async def fetch_json(self: DocumentFetcher, url: str, **options: Any) -> Any:
        parts = urlsplit(url)
        attributes = {"server.address": parts.hostname or "", "url.path": parts.path[:256]}
        with tracer.start_as_current_span("jwks.fetch", kind=SpanKind.CLIENT) as span:
            span.set_attributes(attributes)
            return await original(self, url, **options)

    setattr(DocumentFetcher, "fetch_json", fetch_json)  # noqa: B010


def _trace_upstream(tracer: Tracer) -> None:
    """``upstream <METHOD>``: the gateway's call to its upstream, to the response head."""
    original = Upstream.send
    if getattr(original, "_webfed_traced", False):
        return  # one gateway per process; twice only in tests

    @functools.wraps(original)
    async def send(self: Upstream, method: str, *args: Any, **options: Any) -> Any:
        attributes = {"http.request.method": method, "server.address": self.host}
        with tracer.start_as_current_span(
            f"upstream {method}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            response = await original(self, method, *args, **options)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    send._webfed_traced = True  # type: ignore[attr-defined]
    setattr(Upstream, "send", send)  # noqa: B010
