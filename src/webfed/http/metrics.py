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


# The labelled children per (service, operation, status): prometheus_client builds and looks up
# the label tuple under a lock at every labels() call; the set of labels in use is small
# (operations are from the service models, unknown names are "unknown"), so they are kept.
_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
_MAX_CHILDREN = 4096


def _children(service: str, operation: str, status: int) -> tuple[Counter, Histogram]:
    key = (service, operation, status)
    children = _CHILDREN.get(key)
    if children is None:
        children = (
            _REQUESTS.labels(service, operation, str(status)),
            _LATENCY.labels(service, operation),
        )
        if len(_CHILDREN) < _MAX_CHILDREN:
            _CHILDREN[key] = children
    return children


def observe_request(service: str, operation: str, status: int, seconds: float) -> None:
    requests, latency = _children(service, operation, status)
    requests.inc()
    latency.observe(seconds)


def render() -> bytes:
    return _generate_latest(REGISTRY)
