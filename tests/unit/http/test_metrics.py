"""Request metrics: every observation counted under its labels, however often it repeats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webfed.http import metrics


def _sample(name: str, labels: dict[str, str]) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.mark.parametrize(
    ("service", "operation", "status"),
    [
        ("sts", "AssumeRoleWithWebIdentity", 200),
        ("iam", "GetRole", 403),
        ("unknown", "unknown", 400),
    ],
    ids=["sts-ok", "iam-denied", "unrouted"],
)
def test_each_observation_counts_once_under_its_labels(
    service: str, operation: str, status: int
) -> None:
    labels = {"service": service, "operation": operation, "status": str(status)}
    timing = {"service": service, "operation": operation}
    before = _sample("webfed_requests_total", labels)
    seen_before = _sample("webfed_request_duration_seconds_count", timing)
    for _ in range(3):
        metrics.observe_request(service, operation, status, 0.002)
    assert _sample("webfed_requests_total", labels) == before + 3
    assert _sample("webfed_request_duration_seconds_count", timing) == seen_before + 3


def test_statuses_are_counted_apart() -> None:
    ok = {"service": "sts", "operation": "GetCallerIdentity", "status": "200"}
    denied = {**ok, "status": "403"}
    before_ok, before_denied = (
        _sample("webfed_requests_total", ok),
        _sample("webfed_requests_total", denied),
    )
    metrics.observe_request("sts", "GetCallerIdentity", 200, 0.001)
    metrics.observe_request("sts", "GetCallerIdentity", 403, 0.001)
    metrics.observe_request("sts", "GetCallerIdentity", 403, 0.001)
    assert _sample("webfed_requests_total", ok) == before_ok + 1
    assert _sample("webfed_requests_total", denied) == before_denied + 2


@given(st.lists(st.sampled_from([200, 400, 403, 500]), min_size=1, max_size=30))
def test_counts_match_the_observations(statuses: list[int]) -> None:
    before = {s: _sample("webfed_requests_total", _labels(s)) for s in set(statuses)}
    for status in statuses:
        metrics.observe_request("sts", "PropertyOperation", status, 0.0)
    for status in set(statuses):
        expected = before[status] + statuses.count(status)
        assert _sample("webfed_requests_total", _labels(status)) == expected


def _labels(status: int) -> dict[str, str]:
    return {"service": "sts", "operation": "PropertyOperation", "status": str(status)}
