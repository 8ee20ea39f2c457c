"""Prometheus metrics of this process (``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest

__all__ = ["CONTENT_TYPE", "observe_request", "render"]

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

_REQUESTS = Counter(
    "webfed_requests",
    "AWS API requests handled, by service, operation and HTTP status.",
    ("service", "operation", "status"),
    registry=REGISTRY,
)
_LATENCY = Histogram(
    "webfed_request_duration_seconds",
    "Time to answer an AWS API request.",
    ("service", "operation"),
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)


def observe_request(service: str, operation: str, status: int, seconds: float) -> None:
    _REQUESTS.labels(service, operation, str(status)).inc()
    _LATENCY.labels(service, operation).observe(seconds)


def render() -> bytes:
    return _generate_latest(REGISTRY)
