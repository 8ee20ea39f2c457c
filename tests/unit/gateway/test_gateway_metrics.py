"""The gateway's metrics in-process: the scrape endpoint, requests by operation and status,
refusals by code and check, bounded labels, and the upstream's latency and errors against a
real socket on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.ports import free_port
from webfed.core import sigv4
from webfed.core.policy import DecisionKind
from webfed.errors import AccessDenied, ServiceUnavailable, SignatureDoesNotMatch, WebfedError
from webfed.gateway import metrics
from webfed.gateway.app import METRICS_PATH, GatewayApp
from webfed.gateway.audit import GatewayRecord
from webfed.gateway.body import ClientDisconnected, Receive
from webfed.gateway.cors import CorsPolicy
from webfed.gateway.proxy import Send, Upstream
from webfed.gateway.upstream import UpstreamCredentials
from webfed.http.metrics import REGISTRY


def value(name: str, **labels: str) -> float:
    found = REGISTRY.get_sample_value(name, labels)
    return 0.0 if found is None else found


class Answering:
    """Names the operation, then answers ``status`` or raises ``error``."""

    def __init__(self, operation: str, status: int = 200, error: BaseException | None = None):
        self.operation = operation
        self.status = status
        self.error = error

    async def handle(
        self, scope: MutableMapping[str, Any], receive: Receive, send: Send, record: GatewayRecord
    ) -> None:
        record.operation = self.operation
        if self.error is not None:
            raise self.error
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def call(service: str, handler: Any, method: str = "GET") -> httpx.Response:
    async def start() -> Any:
        return handler

    async def stop() -> None:
        return None

    app = GatewayApp(service, CorsPolicy(), start=start, stop=stop)
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        return await http.request(method, "/bucket/key")


async def test_answered_requests_are_counted_by_operation_and_status() -> None:
    labels = {"service": "s3", "operation": "GetObject"}
    before = value("webfed_gateway_requests_total", status="200", **labels)
    timed = value("webfed_gateway_request_duration_seconds_count", **labels)
    assert (await call("s3", Answering("GetObject"))).status_code == 200
    assert value("webfed_gateway_requests_total", status="200", **labels) == before + 1
    assert value("webfed_gateway_request_duration_seconds_count", **labels) == timed + 1


SIGNATURE = SignatureDoesNotMatch("bad", explanation={"check": "signature"})


@pytest.mark.parametrize(
    ("error", "code", "check"),
    [
        (SIGNATURE, "SignatureDoesNotMatch", "signature"),
        (AccessDenied("no", explanation={"check": "policy"}), "AccessDenied", "policy"),
        (AccessDenied("no", explanation={"check": "<odd value>"}), "AccessDenied", "other"),
    ],
    ids=["signature", "policy", "odd-check"],
)
async def test_refusals_are_counted_by_code_and_check(
    error: WebfedError, code: str, check: str
) -> None:
    status = 400  # DynamoDB answers every client error 400
    labels = {"service": "dynamodb", "code": code, "check": check}
    before = value("webfed_gateway_rejections_total", **labels)
    answered = value(
        "webfed_gateway_requests_total", service="dynamodb", operation="PutItem", status=str(status)
    )
    response = await call("dynamodb", Answering("PutItem", error=error), "POST")
    assert response.status_code == status
    assert value("webfed_gateway_rejections_total", **labels) == before + 1
    assert (
        value(
            "webfed_gateway_requests_total",
            service="dynamodb",
            operation="PutItem",
            status=str(status),
        )
        == answered + 1
    )


async def test_a_refusal_without_explanation_is_not_a_rejection() -> None:
    before = sum(s.value for s in _samples("webfed_gateway_rejections_total"))
    await call("s3", Answering("GetObject", error=AccessDenied("no")))
    assert sum(s.value for s in _samples("webfed_gateway_rejections_total")) == before


@pytest.mark.parametrize(
    ("operation", "label"),
    [("", "unknown"), ("Get Object", "other"), ("x" * 100, "other")],
    ids=["unnamed", "space", "too-long"],
)
async def test_operations_outside_the_tables_are_bounded(operation: str, label: str) -> None:
    labels = {"service": "s3", "operation": label, "status": "200"}
    before = value("webfed_gateway_requests_total", **labels)
    await call("s3", Answering(operation))
    assert value("webfed_gateway_requests_total", **labels) == before + 1


async def test_a_client_gone_before_the_answer_is_counted_as_499() -> None:
    labels = {"service": "s3", "operation": "PutObject", "status": "499"}
    before = value("webfed_gateway_requests_total", **labels)
    app = _bare_app(Answering("PutObject", error=ClientDisconnected()))
    await app.startup()
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "PUT", "path": "/b/k", "headers": [], "query_string": b""}
    await app(scope, receive, send)
    assert sent == []
    assert value("webfed_gateway_requests_total", **labels) == before + 1


async def test_the_scrape_holds_the_gateway_families_and_not_the_servers() -> None:
    await call("s3", Answering("ListObjectsV2"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_bare_app()), base_url="http://gw"
    ) as http:
        response = await http.get(METRICS_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "webfed_gateway_requests",
        "webfed_gateway_request_duration_seconds",
        "webfed_gateway_rejections",
        "webfed_gateway_authorizations",
        "webfed_gateway_upstream_duration_seconds",
        "webfed_gateway_upstream_errors",
        "webfed_build_info",
    } <= names
    assert not names & {"webfed_requests", "webfed_rejections", "webfed_jwks_fetches"}


def test_authorizations_by_reason_start_at_zero() -> None:
    metrics.declare("s3")
    for decision, reason in (("allow", "allow"), ("deny", "explicit_deny")):
        labels = {"service": "s3", "decision": decision, "reason": reason}
        assert REGISTRY.get_sample_value("webfed_gateway_authorizations_total", labels) is not None
    labels = {"service": "s3", "decision": "deny", "reason": "implicit_deny"}
    before = value("webfed_gateway_authorizations_total", **labels)
    metrics.observe_authorization("s3", DecisionKind.IMPLICIT_DENY)
    assert value("webfed_gateway_authorizations_total", **labels) == before + 1


# --- the upstream -------------------------------------------------------------------------------


def _upstream(port: int) -> Upstream:
    return Upstream(
        f"http://127.0.0.1:{port}",
        UpstreamCredentials("AKIDEXAMPLE", "upstream-secret"),
        region="us-east-1",
        service="dynamodb",
        rules=sigv4.STANDARD_RULES,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        timeout=5.0,
    )


async def _answer_503(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(2)  # the body, b"{}"
    writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_upstream_latency_and_server_errors() -> None:
    server = await asyncio.start_server(_answer_503, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    timed = value("webfed_gateway_upstream_duration_seconds_count", service="dynamodb")
    failed = value("webfed_gateway_upstream_errors_total", service="dynamodb", error="server_error")
    upstream = _upstream(port)
    try:
        response = await upstream.send("POST", "/", "", [], b"{}", payload_hash="UNSIGNED-PAYLOAD")
        assert response.status_code == 503
        await response.aclose()
    finally:
        await upstream.aclose()
        server.close()
        await server.wait_closed()
    assert value("webfed_gateway_upstream_duration_seconds_count", service="dynamodb") == timed + 1
    assert (
        value("webfed_gateway_upstream_errors_total", service="dynamodb", error="server_error")
        == failed + 1
    )


async def test_an_unreachable_upstream_is_counted() -> None:
    port = free_port()  # nobody listens on it, and no other listener of the run is given it
    before = value("webfed_gateway_upstream_errors_total", service="dynamodb", error="unreachable")
    upstream = _upstream(port)
    try:
        with pytest.raises(ServiceUnavailable):
            await upstream.send("POST", "/", "", [], b"{}", payload_hash="UNSIGNED-PAYLOAD")
    finally:
        await upstream.aclose()
    assert (
        value("webfed_gateway_upstream_errors_total", service="dynamodb", error="unreachable")
        == before + 1
    )


def _samples(name: str) -> list[Any]:
    return [s for family in REGISTRY.collect() for s in family.samples if s.name == name]


def _bare_app(handler: Any = None) -> GatewayApp:
    async def start() -> Any:
        if handler is None:
            raise AssertionError("the scrape needs no handler")
        return handler

    async def stop() -> None:
        return None

    return GatewayApp("s3", CorsPolicy(), start=start, stop=stop)
