"""Token buckets for the unsigned calls: the bucket arithmetic, the keys, the errors, the bounds."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webfed.errors import Throttling, TooManyRequests
from webfed.http.metrics import REGISTRY
from webfed.http.ratelimit import (
    UNREADABLE_ISSUER,
    BucketTable,
    RateLimits,
    limit_scope,
    throttling_error,
    unverified_issuer,
)
from webfed.protocol import json11


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(claims: object, *, raw_payload: bytes | None = None) -> str:
    payload = raw_payload if raw_payload is not None else json.dumps(claims).encode()
    return f"{_segment(b'{}')}.{_segment(payload)}.{_segment(b'sig')}"


def test_burst_then_the_rate() -> None:
    table = BucketTable("client", rate=2.0, burst=3, max_keys=10)
    assert [table.admit("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert table.admit("a", 0.4) is False  # 0.8 of a token
    assert table.admit("a", 0.5) is True  # 1.0 token
    assert table.admit("a", 100.0) is True  # refilled to the burst, not beyond
    assert [table.admit("a", 100.0) for _ in range(3)] == [True, True, False]


def test_keys_are_independent() -> None:
    table = BucketTable("client", rate=1.0, burst=1, max_keys=10)
    assert table.admit("a", 0.0) and not table.admit("a", 0.0)
    assert table.admit("b", 0.0)


def test_memory_is_bounded_least_recently_used_first() -> None:
    table = BucketTable("client", rate=1.0, burst=1, max_keys=3)
    for key in "abc":
        table.admit(key, 0.0)
    table.admit("a", 0.0)  # "a" is now the most recently used; "b" the least
    table.admit("d", 0.0)
    assert len(table) == 3
    assert table.admit("a", 0.0) is False  # kept: still empty
    assert table.admit("b", 0.0) is True  # forgotten, back with a full bucket


@pytest.mark.parametrize(
    ("rate", "burst", "max_keys"), [(0, 1, 1), (-1, 1, 1), (1, 0, 1), (1, 1, 0)]
)
def test_nonsense_tables_are_refused(rate: float, burst: int, max_keys: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        BucketTable("client", rate, burst, max_keys)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 0.5), min_size=1, max_size=80),
)
def test_admitted_calls_never_exceed_burst_plus_rate_times_time(
    rate: float, burst: int, gaps: list[float]
) -> None:
    """In every window [t0, t1]: admitted <= burst + rate * (t1 - t0) (the token-bucket bound)."""
    table = BucketTable("client", rate, burst, max_keys=1)
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap
        if table.admit("k", now):
            admitted.append(now)
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= burst + rate * (admitted[j] - start) + 1e-6


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (_token({"iss": "https://idp.example.com", "sub": "x"}), "https://idp.example.com"),
        (_token({"sub": "x"}), UNREADABLE_ISSUER),
        (_token({"iss": 7}), UNREADABLE_ISSUER),
        (_token({"iss": ""}), UNREADABLE_ISSUER),
        (_token({"iss": "x" * 2049}), UNREADABLE_ISSUER),
        (_token(["iss"]), UNREADABLE_ISSUER),
        (_token(None, raw_payload=b"\xff\xfe"), UNREADABLE_ISSUER),
        (_token(None, raw_payload=b"[" * 5000), UNREADABLE_ISSUER),
        (_token(None, raw_payload=b"{not json"), UNREADABLE_ISSUER),
        ("one.segment", UNREADABLE_ISSUER),
        ("a.!!!.c", UNREADABLE_ISSUER),
        ("", UNREADABLE_ISSUER),
        ("a." + "A" * 30_000 + ".c", UNREADABLE_ISSUER),
        (None, UNREADABLE_ISSUER),
    ],
    ids=[
        "valid",
        "no-iss",
        "number",
        "empty",
        "too-long",
        "not-object",
        "bad-utf8",
        "deep",
        "bad-json",
        "two-segments",
        "bad-base64",
        "empty-token",
        "huge-payload",
        "not-a-string",
    ],
)
def test_unverified_issuer(token: object, expected: str) -> None:
    assert unverified_issuer(token) == expected


def test_only_the_top_level_iss_counts() -> None:
    token = _token({"nested": {"iss": "https://other.example"}, "iss": "https://idp.example"})
    assert unverified_issuer(token) == "https://idp.example"


def test_scopes() -> None:
    token = _token({"iss": "https://idp.example"})
    assert limit_scope("sts", "AssumeRoleWithWebIdentity", {"WebIdentityToken": token}) == (
        "issuer",
        "https://idp.example",
    )
    pool = "us-east-1:8d3d6a9e-0000-4000-8000-000000000000"
    assert limit_scope("cognito-identity", "GetId", {"IdentityPoolId": pool}) == ("pool", pool)
    assert limit_scope("cognito-identity", "GetOpenIdToken", {"IdentityId": pool}) is None
    assert limit_scope("sts", "GetCallerIdentity", {}) is None


def test_errors_are_each_services_own() -> None:
    sts = throttling_error("sts")
    assert isinstance(sts, Throttling)
    assert (sts.code, sts.status, sts.message) == ("Throttling", 400, "Rate exceeded")
    cognito = throttling_error("cognito-identity")
    assert isinstance(cognito, TooManyRequests)
    assert cognito.status == 429
    assert json.loads(json11.encode_json_error(cognito)) == {
        "__type": "TooManyRequestsException",
        "message": "Rate exceeded",
    }


def _limits(clock: Clock, **overrides: float) -> RateLimits:
    values: dict[str, float] = {
        "client_rate": 1.0,
        "client_burst": 2,
        "scope_rate": 1.0,
        "scope_burst": 2,
        "max_keys": 100,
    }
    values.update(overrides)
    return RateLimits.configured(
        client_rate=values["client_rate"],
        client_burst=int(values["client_burst"]),
        scope_rate=values["scope_rate"],
        scope_burst=int(values["scope_burst"]),
        max_keys=int(values["max_keys"]),
        clock=clock,
    )


def _throttled(service: str, operation: str, limit: str) -> float:
    labels = {"service": service, "operation": operation, "limit": limit}
    return REGISTRY.get_sample_value("webfed_throttled_requests_total", labels) or 0.0


def test_per_client_limit_and_its_metric() -> None:
    clock = Clock()
    limits = _limits(clock)
    before = _throttled("sts", "AssumeRoleWithWebIdentity", "client")
    for _ in range(2):
        limits.admit_client("sts", "AssumeRoleWithWebIdentity", "192.0.2.1")
    with pytest.raises(Throttling):
        limits.admit_client("sts", "AssumeRoleWithWebIdentity", "192.0.2.1")
    limits.admit_client("sts", "AssumeRoleWithWebIdentity", "192.0.2.2")
    clock.now += 1.0
    limits.admit_client("sts", "AssumeRoleWithWebIdentity", "192.0.2.1")
    assert _throttled("sts", "AssumeRoleWithWebIdentity", "client") == before + 1


def test_per_issuer_limit_spares_other_issuers_and_pools() -> None:
    clock = Clock()
    limits = _limits(clock)
    flooded = {"WebIdentityToken": _token({"iss": "https://flooded.example"})}
    for _ in range(2):
        limits.admit_scope("sts", "AssumeRoleWithWebIdentity", flooded)
    with pytest.raises(Throttling):
        limits.admit_scope("sts", "AssumeRoleWithWebIdentity", flooded)
    other = {"WebIdentityToken": _token({"iss": "https://other.example"})}
    limits.admit_scope("sts", "AssumeRoleWithWebIdentity", other)
    # A pool whose id equals the flooded issuer's URL has its own table: nothing shared.
    limits.admit_scope("cognito-identity", "GetId", {"IdentityPoolId": "https://flooded.example"})


def test_per_pool_limit_from_the_dispatcher_and_from_handlers() -> None:
    clock = Clock()
    limits = _limits(clock)
    pool = "us-east-1:8d3d6a9e-0000-4000-8000-000000000001"
    before = _throttled("cognito-identity", "GetCredentialsForIdentity", "pool")
    limits.admit_scope("cognito-identity", "GetId", {"IdentityPoolId": pool})
    limits.admit_pool("GetCredentialsForIdentity", pool)
    with pytest.raises(TooManyRequests):
        limits.admit_pool("GetCredentialsForIdentity", pool)
    with pytest.raises(TooManyRequests):
        limits.admit_scope("cognito-identity", "GetId", {"IdentityPoolId": pool})
    assert _throttled("cognito-identity", "GetCredentialsForIdentity", "pool") == before + 1


def test_zero_rates_switch_limits_off() -> None:
    clock = Clock()
    limits = _limits(clock, client_rate=0, scope_rate=0)
    assert (limits.per_client, limits.per_issuer, limits.per_pool) == (None, None, None)
    params = {"WebIdentityToken": _token({"iss": "https://idp.example"})}
    for _ in range(1000):
        limits.admit_client("sts", "AssumeRoleWithWebIdentity", "192.0.2.1")
        limits.admit_scope("sts", "AssumeRoleWithWebIdentity", params)


def test_burst_defaults_to_twice_the_rate() -> None:
    limits = _limits(Clock(), client_rate=5, client_burst=0, scope_rate=0.2, scope_burst=0)
    assert limits.per_client is not None and limits.per_client.burst == 10
    assert limits.per_issuer is not None and limits.per_issuer.burst == 1
