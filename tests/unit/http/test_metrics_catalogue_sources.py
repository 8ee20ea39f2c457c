"""Refusal and decision counters keep their labels bounded; the runtime collector reads the
process's own counters at scrape time and forgets a runtime once it is unbound."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from webfed.audit.sink import AuditSinkStats
from webfed.errors import AccessDenied, InvalidIdentityToken, NotAuthorized
from webfed.http import metrics
from webfed.jwks.cache import JwksCounters


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    found = metrics.REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if found is None else found


def _series(name: str) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in metrics.REGISTRY.collect()
        for sample in family.samples
        if sample.name == name
    ]


def test_a_refusal_is_counted_under_its_service_code_and_check() -> None:
    labels = {"service": "sts", "code": "InvalidIdentityToken", "check": "signature"}
    before = _value("webfed_rejections_total", labels)
    error = InvalidIdentityToken("bad", explanation={"check": "signature", "kid": "k1"})
    metrics.observe_rejection("sts", error)
    metrics.observe_rejection("sts", error)
    assert _value("webfed_rejections_total", labels) == before + 2


def test_a_refusal_without_explanation_is_not_a_rejection() -> None:
    before = sum(1 for _ in _series("webfed_rejections_total"))
    metrics.observe_rejection("iam", AccessDenied("no"))
    assert sum(1 for _ in _series("webfed_rejections_total")) == before


@pytest.mark.parametrize(
    "check",
    ["x" * 200, "has space", "", 42, None, "<script>", "ünïcode"],
    ids=["too-long", "space", "empty", "number", "missing", "markup", "non-ascii"],
)
def test_odd_check_values_are_counted_as_other(check: object) -> None:
    labels = {"service": "cognito-identity", "code": "NotAuthorizedException", "check": "other"}
    before = _value("webfed_rejections_total", labels)
    error = NotAuthorized("no", explanation={"check": check})
    metrics.observe_rejection("cognito-identity", error)
    assert _value("webfed_rejections_total", labels) == before + 1


def test_rejection_label_sets_stop_growing_at_the_cap() -> None:
    for index in range(metrics._MAX_REJECTION_SETS + 50):
        error = AccessDenied("no", explanation={"check": f"check_{index}"})
        metrics.observe_rejection("iam", error)
    assert len(_series("webfed_rejections_total")) <= metrics._MAX_REJECTION_SETS + 1
    assert (
        _value(
            "webfed_rejections_total", {"service": "iam", "code": "AccessDenied", "check": "other"}
        )
        >= 50
    )


def test_decisions_by_action_prefix_and_outcome() -> None:
    allow = {"service": "s3", "decision": "allow"}
    deny = {"service": "s3", "decision": "deny"}
    before = (
        _value("webfed_authorization_decisions_total", allow),
        _value("webfed_authorization_decisions_total", deny),
    )
    metrics.observe_decision("s3:GetObject", allowed=True)
    metrics.observe_decision("S3:PutObject", allowed=True)  # IAM actions ignore case
    metrics.observe_decision("s3:DeleteObject", allowed=False)
    assert _value("webfed_authorization_decisions_total", allow) == before[0] + 2
    assert _value("webfed_authorization_decisions_total", deny) == before[1] + 1


def test_decision_services_stop_growing_at_the_cap() -> None:
    for index in range(metrics._MAX_DECISION_SERVICES + 10):
        metrics.observe_decision(f"api{index}:Invoke", allowed=False)
    services = {labels["service"] for labels in _series("webfed_authorization_decisions_total")}
    assert len(services) <= metrics._MAX_DECISION_SERVICES + 1
    assert "other" in services


@dataclass
class _Cache:
    counters: JwksCounters = field(default_factory=JwksCounters)


@dataclass
class _Audit:
    stats: AuditSinkStats = field(
        default_factory=lambda: AuditSinkStats(
            written=7, dropped=2, failed_batches=1, unlogged=0, queued=3
        )
    )


@dataclass
class _Store:
    status: dict[str, int] | None

    def pool_status(self) -> dict[str, int] | None:
        return self.status


@dataclass
class _Source:
    jwks: _Cache
    audit: _Audit
    store: _Store


_READ = (
    ("webfed_jwks_cache_lookups_total", {"result": "hit"}),
    ("webfed_jwks_cache_lookups_total", {"result": "miss"}),
    ("webfed_jwks_cache_lookups_total", {"result": "refresh_limited"}),
    ("webfed_jwks_fetches_total", {"outcome": "failure"}),
    ("webfed_audit_events_written_total", {}),
    ("webfed_audit_events_dropped_total", {}),
    ("webfed_audit_queue_events", {}),
    ("webfed_db_pool_checked_out", {}),
    ("webfed_db_pool_size", {}),
)


def _read() -> list[float]:
    """The collector's values now; other runtimes of this test process may be bound too, so
    the tests compare differences."""
    return [_value(name, labels) for name, labels in _READ]


def test_the_runtime_collector_reads_bound_runtimes_and_forgets_unbound_ones() -> None:
    counters = JwksCounters(cache_hits=5, misses=2, successes=1, failures=1, rate_limited=3)
    pool = {"size": 5, "checked_out": 2, "overflow": 0}
    source = _Source(_Cache(counters), _Audit(), _Store(pool))
    before = _read()
    metrics.bind_runtime(source)
    try:
        added = [now - then for now, then in zip(_read(), before, strict=True)]
        assert added == [5, 2, 3, 1, 7, 2, 3, 2, 5]
        counters.cache_hits += 1  # read at scrape time, not copied at bind time
        assert _read()[0] == before[0] + 6
    finally:
        metrics.unbind_runtime(source)
    assert _read() == before


def test_a_pool_that_does_not_queue_reports_no_pool_gauges() -> None:
    source = _Source(_Cache(), _Audit(), _Store(None))
    before = _read()
    metrics.bind_runtime(source)
    try:
        after = _read()
        assert after[-2:] == before[-2:]  # no pool gauges added
        assert after[4] == before[4] + 7  # the audit counters still are
    finally:
        metrics.unbind_runtime(source)
