"""Prometheus metrics of this process (``GET /metrics``); the catalogue is ``docs/metrics.md``.

Two kinds of metric live here:

* **event counters** incremented on the request path: AWS requests and their latency
  (:func:`observe_request`), refusals by the failed check (:func:`observe_rejection`) and
  authorization decisions (:func:`observe_decision`);
* **read at scrape time** from the running process (:class:`RuntimeCollector`): the issuer key
  cache's counters, the audit sink's counters and queue, the database connection pool. Those
  parts keep plain integers for themselves; converting them here costs the request path
  nothing. :func:`bind_runtime` tells the collector which runtime to read.

Every label takes its values from a bounded set: services and operations from the service
models, AWS error codes from ``webfed.errors``, checks from the code's explanations. Values that
do not look like one of those, and any beyond a fixed number of distinct label sets, are counted
under ``other``, so a caller cannot grow the exposition by sending odd input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
)
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from webfed import __version__
from webfed.audit.sink import AuditSinkStats
from webfed.errors import WebfedError
from webfed.jwks.cache import JwksCounters

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "MetricsSource",
    "RuntimeCollector",
    "bind_runtime",
    "observe_decision",
    "observe_rejection",
    "observe_request",
    "render",
    "safe_label",
    "unbind_runtime",
]

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER = "other"

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
_REJECTIONS = Counter(
    "webfed_rejections",
    "AWS API calls refused with an administrator's explanation, by service, AWS error code and "
    "the check that failed (token checks, signature checks, authorization).",
    ("service", "code", "check"),
    registry=REGISTRY,
)
_DECISIONS = Counter(
    "webfed_authorization_decisions",
    "Authorization decisions of the embeddable authorizer (gateways, decision endpoints, "
    "ASGI middleware), by the action's service prefix and the outcome (allow, deny).",
    ("service", "decision"),
    registry=REGISTRY,
)
_BUILD = Gauge(
    "webfed_build_info", "Always 1; the running webfed version.", ("version",), registry=REGISTRY
)
_BUILD.labels(__version__).set(1)
ProcessCollector(registry=REGISTRY)  # process_* : CPU, memory, open files (Linux)


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


# --- bounded labels for refusals and decisions ----------------------------------------------

_LABEL_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_MAX_REJECTION_SETS = 512
_MAX_DECISION_SERVICES = 64
_REJECTION_CHILDREN: dict[tuple[str, str, str], Counter] = {}
_DECISION_CHILDREN: dict[tuple[str, bool], Counter] = {}


def safe_label(value: object) -> str:
    """``value`` as a label if it looks like a name (a bounded alphabet and length), else
    ``other``: label values never carry what a client invented."""
    return value if isinstance(value, str) and _LABEL_VALUE.match(value) else OTHER


def observe_rejection(service: str, error: WebfedError) -> None:
    """Count a refused call whose error explains itself (``explanation["check"]``)."""
    explanation = error.explanation
    if explanation is None:
        return
    key = (safe_label(service), safe_label(error.code), safe_label(explanation.get("check")))
    child = _REJECTION_CHILDREN.get(key)
    if child is None:
        if len(_REJECTION_CHILDREN) >= _MAX_REJECTION_SETS:
            key = (key[0], key[1], OTHER)
            child = _REJECTION_CHILDREN.get(key)
        if child is None:
            child = _REJECTIONS.labels(*key)
            _REJECTION_CHILDREN[key] = child
    child.inc()


def observe_decision(action: str, allowed: bool) -> None:
    """Count one decision; the label is the action's service prefix (``s3`` of ``s3:GetObject``)."""
    service = safe_label(action.partition(":")[0].lower())
    key = (service, allowed)
    child = _DECISION_CHILDREN.get(key)
    if child is None:
        known = {name for name, _ in _DECISION_CHILDREN}
        if service not in known and len(known) >= _MAX_DECISION_SERVICES:
            key = (OTHER, allowed)
            child = _DECISION_CHILDREN.get(key)
        if child is None:
            child = _DECISIONS.labels(key[0], "allow" if allowed else "deny")
            _DECISION_CHILDREN[key] = child
    child.inc()


# --- read at scrape time --------------------------------------------------------------------


class _KeyCache(Protocol):
    @property
    def counters(self) -> JwksCounters: ...


class _Audit(Protocol):
    @property
    def stats(self) -> AuditSinkStats: ...


class _Store(Protocol):
    def pool_status(self) -> Mapping[str, int] | None: ...


class MetricsSource(Protocol):
    """What the collector reads: :class:`webfed.runtime.Runtime` has all three."""

    @property
    def jwks(self) -> _KeyCache: ...

    @property
    def audit(self) -> _Audit: ...

    @property
    def store(self) -> _Store: ...


_BOUND: list[MetricsSource] = []


def bind_runtime(source: MetricsSource) -> None:
    """Report ``source``'s caches, audit sink and pool from now on (the app's lifespan)."""
    _BOUND.append(source)


def unbind_runtime(source: MetricsSource) -> None:
    if source in _BOUND:
        _BOUND.remove(source)


class RuntimeCollector(Collector):
    """Counters the running process keeps as plain integers, turned into metric families."""

    def collect(self) -> Iterator[Metric]:
        sources = list(_BOUND)
        yield from _jwks_families([source.jwks.counters for source in sources])
        yield from _audit_families([source.audit.stats for source in sources])
        pools = [status for source in sources if (status := source.store.pool_status())]
        yield from _pool_families(pools)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _jwks_families(counters: list[JwksCounters]) -> Iterator[Metric]:
    lookups = CounterMetricFamily(
        "webfed_jwks_cache_lookups",
        "Issuer key lookups: hit (answered from fresh cached keys), miss (waited for a fetch), "
        "refresh_limited (unknown kid, refresh refused by the per-issuer interval).",
        labels=("result",),
    )
    lookups.add_metric(("hit",), sum(c.cache_hits for c in counters))
    lookups.add_metric(("miss",), sum(c.misses for c in counters))
    lookups.add_metric(("refresh_limited",), sum(c.rate_limited for c in counters))
    yield lookups
    fetches = CounterMetricFamily(
        "webfed_jwks_fetches",
        "Fetches of an issuer's discovery document and JWKS, by outcome (success, failure).",
        labels=("outcome",),
    )
    fetches.add_metric(("success",), sum(c.successes for c in counters))
    fetches.add_metric(("failure",), sum(c.failures for c in counters))
    yield fetches
    yield _counter(
        "webfed_jwks_unknown_kid_refreshes",
        "Refreshes started because a token named a key id the cached set lacks.",
        sum(c.refreshes for c in counters),
    )
    yield _counter(
        "webfed_jwks_stale_served",
        "Lookups answered with expired keys because the issuer could not be reached "
        "(stale-if-error).",
        sum(c.stale_served for c in counters),
    )


def _audit_families(stats: list[AuditSinkStats]) -> Iterator[Metric]:
    yield _counter(
        "webfed_audit_events_written",
        "Audit events stored in the audit_events table.",
        sum(s.written for s in stats),
    )
    yield _counter(
        "webfed_audit_events_dropped",
        "Audit events not stored (queue full, or a batch the database refused for good); "
        "each was still logged.",
        sum(s.dropped for s in stats),
    )
    yield _counter(
        "webfed_audit_failed_batches",
        "Batches of audit events the database refused (retried when transient).",
        sum(s.failed_batches for s in stats),
    )
    yield _counter(
        "webfed_audit_events_unlogged",
        "Audit events the log stream failed to take.",
        sum(s.unlogged for s in stats),
    )
    yield GaugeMetricFamily(
        "webfed_audit_queue_events",
        "Audit events waiting to be stored.",
        value=sum(s.queued for s in stats),
    )


def _pool_families(pools: list[Mapping[str, int]]) -> Iterator[Metric]:
    descriptions = {
        "size": "Connections the database pool keeps open (its configured size).",
        "checked_out": "Database connections in use by requests and background tasks now.",
        "overflow": "Database connections open beyond the pool's size now (at most its "
        "max_overflow; at the limit, requests wait for a connection).",
    }
    for field, documentation in descriptions.items():
        gauge = GaugeMetricFamily(f"webfed_db_pool_{field}", documentation)
        if pools:
            gauge.add_metric((), sum(status[field] for status in pools))
        yield gauge


REGISTRY.register(RuntimeCollector())


def render() -> bytes:
    return _generate_latest(REGISTRY)
