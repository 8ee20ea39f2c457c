"""Prometheus metrics of a gateway process (``GET /__webfed/metrics``; ``docs/metrics.md``).

The gateway's own families are registered on the server's registry
(:data:`webfed.http.metrics.REGISTRY`), so one scrape also carries what the shared parts record
in this process: the embeddable authorizer's ``webfed_authorization_decisions_total``, the build
and ``process_*`` metrics. They count:

* requests answered, by service, operation and status, and their latency
  (:func:`observe_request`);
* refusals that explain themselves, by AWS error code and failed check: signature, expiry,
  session-token and authorization failures (:func:`observe_rejection`);
* the request's authorization outcome with IAM's reason: ``allow``, ``explicit_deny`` or
  ``implicit_deny`` (:func:`observe_authorization`);
* the upstream: time to its response head, and errors, unreachable or 5xx
  (:func:`observe_upstream`, :func:`observe_upstream_error`).

:func:`render` serves those and the families a gateway shares with the server (authorization
decisions, audit sink, database pool, build, process), not the server's request families: a
gateway never moves them, and empty families in its scrape would only mislead.

Labels are bounded as the server's are: operations come from the mappers' tables (a request no
mapper names is ``unknown``), codes from webfed's exception tree, checks from the code's
explanations; a value that does not look like an identifier is ``other``, and past a fixed
number of label sets new ones are counted under ``other`` too.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric

from webfed.core.policy import DecisionKind
from webfed.errors import WebfedError
from webfed.http.metrics import OTHER, REGISTRY, safe_label

__all__ = [
    "UPSTREAM_ERRORS",
    "declare",
    "observe_authorization",
    "observe_rejection",
    "observe_request",
    "observe_upstream",
    "observe_upstream_error",
    "render",
]

UPSTREAM_ERRORS = ("unreachable", "server_error")
"""``unreachable``: no answer (connection refused or reset, timeout); ``server_error``: 5xx."""

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_REQUESTS = Counter(
    "webfed_gateway_requests",
    "Requests through the gateway answered, by service, operation and HTTP status.",
    ("service", "operation", "status"),
    registry=REGISTRY,
)
_LATENCY = Histogram(
    "webfed_gateway_request_duration_seconds",
    "Time from a request reaching the gateway to the end of its answer (bodies included).",
    ("service", "operation"),
    buckets=_BUCKETS,
    registry=REGISTRY,
)
_REJECTIONS = Counter(
    "webfed_gateway_rejections",
    "Gateway requests refused with an administrator's explanation, by service, AWS error code "
    "and the check that failed (signature, request-time, session-token, authorization...).",
    ("service", "code", "check"),
    registry=REGISTRY,
)
_AUTHORIZATIONS = Counter(
    "webfed_gateway_authorizations",
    "Authorization outcomes of gateway requests (every permission a request needs), by "
    "service, decision (allow, deny) and IAM's reason (allow, explicit_deny, implicit_deny).",
    ("service", "decision", "reason"),
    registry=REGISTRY,
)
_UPSTREAM_LATENCY = Histogram(
    "webfed_gateway_upstream_duration_seconds",
    "Time from sending a request upstream to the upstream's response head.",
    ("service",),
    buckets=_BUCKETS,
    registry=REGISTRY,
)
_UPSTREAM_ERRORS = Counter(
    "webfed_gateway_upstream_errors",
    "Upstream failures: unreachable (no answer) or server_error (a 5xx answer).",
    ("service", "error"),
    registry=REGISTRY,
)

_MAX_LABEL_SETS = 1024
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
_REJECTION_CHILDREN: dict[tuple[str, str, str], Counter] = {}
_AUTHORIZATION_CHILDREN: dict[tuple[str, DecisionKind], Counter] = {}
_UPSTREAM_LATENCY_CHILDREN: dict[str, Histogram] = {}


def observe_request(service: str, operation: str, status: int, seconds: float) -> None:
    """Count one answered request; ``operation`` is empty when no mapper named one."""
    key = (service, operation, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        name = safe_label(operation) if operation else "unknown"
        if len(_REQUEST_CHILDREN) >= _MAX_LABEL_SETS:
            name = OTHER
        children = (
            _REQUESTS.labels(service, name, str(status)),
            _LATENCY.labels(service, name),
        )
        if len(_REQUEST_CHILDREN) < _MAX_LABEL_SETS:
            _REQUEST_CHILDREN[key] = children
    requests, latency = children
    requests.inc()
    latency.observe(seconds)


def observe_rejection(service: str, error: WebfedError) -> None:
    """Count a refusal whose error explains itself (``explanation["check"]``)."""
    explanation = error.explanation
    if explanation is None:
        return
    key = (service, safe_label(error.code), safe_label(explanation.get("check")))
    child = _REJECTION_CHILDREN.get(key)
    if child is None:
        if len(_REJECTION_CHILDREN) >= _MAX_LABEL_SETS:
            key = (service, key[1], OTHER)
            child = _REJECTION_CHILDREN.get(key)
        if child is None:
            child = _REJECTIONS.labels(*key)
            _REJECTION_CHILDREN[key] = child
    child.inc()


def observe_authorization(service: str, kind: DecisionKind) -> None:
    """Count a request's authorization: allowed, or the reason of its first denial."""
    child = _AUTHORIZATION_CHILDREN.get((service, kind))
    if child is None:
        decision = "allow" if kind is DecisionKind.ALLOW else "deny"
        child = _AUTHORIZATIONS.labels(service, decision, kind.value)
        _AUTHORIZATION_CHILDREN[service, kind] = child
    child.inc()


def observe_upstream(service: str, seconds: float, status: int) -> None:
    """The upstream answered (its response head arrived) after ``seconds``."""
    latency = _UPSTREAM_LATENCY_CHILDREN.get(service)
    if latency is None:
        latency = _UPSTREAM_LATENCY_CHILDREN[service] = _UPSTREAM_LATENCY.labels(service)
    latency.observe(seconds)
    if status >= 500:
        _UPSTREAM_ERRORS.labels(service, "server_error").inc()


def observe_upstream_error(service: str) -> None:
    """The upstream could not be reached, or did not answer in time."""
    _UPSTREAM_ERRORS.labels(service, "unreachable").inc()


def declare(service: str) -> None:
    """The service's fixed series from the start, so a scrape shows zeros (and ``rate()``
    works) before the first denial or upstream error."""
    for error in UPSTREAM_ERRORS:
        _UPSTREAM_ERRORS.labels(service, error)
    for kind in DecisionKind:
        _AUTHORIZATION_CHILDREN[service, kind] = _AUTHORIZATIONS.labels(
            service, "allow" if kind is DecisionKind.ALLOW else "deny", kind.value
        )


_SHARED_FAMILIES = (
    "webfed_gateway_",
    "webfed_authorization_decisions",
    "webfed_audit_",
    "webfed_db_pool_",
    "webfed_build_info",
    "process_",
)


class _GatewayFamilies:
    """The registry's families a gateway process has something to say about."""

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            if family.name.startswith(_SHARED_FAMILIES):
                yield family


_GATEWAY_FAMILIES = _GatewayFamilies()


def render() -> bytes:
    """The gateway's scrape, in the Prometheus text format."""
    return generate_latest(_GATEWAY_FAMILIES)
