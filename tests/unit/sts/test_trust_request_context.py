"""The assume calls' trust check builds its request context once per call (time keys shared
within a second); it must be exactly what ``AuthorizationRequest.build`` makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from webfed.api.sts.denials import _request_context
from webfed.core.policy import (
    AuthorizationRequest,
    RootPrincipal,
    WebIdentityPrincipal,
    build_context,
)

_KEYS = {
    "accounts.google.com:aud": "client-1",
    "accounts.google.com:amr": ["pwd", "mfa"],
    "aws:SourceIp": "192.0.2.1",
    "AWS:CurrentTime": "caller-supplied keys win",
}


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 11, 26, 12, 0, 0, 999_999, tzinfo=UTC), id="utc"),
        pytest.param(
            datetime(2026, 11, 26, 13, 0, 1, tzinfo=timezone(timedelta(hours=1))), id="offset"
        ),
        pytest.param(datetime(2026, 11, 26, 12, 0, 2), id="naive-is-utc"),
    ],
)
@pytest.mark.parametrize(
    "principal",
    [
        pytest.param(WebIdentityPrincipal("accounts.google.com"), id="web-identity"),
        pytest.param(RootPrincipal("123456789012"), id="root"),
    ],
)
def test_same_context_as_build(now: datetime, principal: WebIdentityPrincipal) -> None:
    built = AuthorizationRequest.build(
        principal, "sts:AssumeRoleWithWebIdentity", "*", _KEYS, now=now
    )
    assert _request_context(principal, _KEYS, now) == built.context


def test_time_keys_follow_the_clock() -> None:
    principal = WebIdentityPrincipal("accounts.google.com")
    first = _request_context(principal, {}, datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC))
    second = _request_context(principal, {}, datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert first["aws:currenttime"] == "2026-01-01T00:00:00Z"
    assert second["aws:currenttime"] == "2026-01-01T00:00:01Z"
    assert second["aws:epochtime"] == str(int(first["aws:epochtime"]) + 1)


def test_build_context_into_an_existing_context() -> None:
    """Later keys win, names lowercased, sequences become tuples of text: exactly as merging
    two separately built contexts."""
    base = {"aws:SourceIp": "192.0.2.1", "k:Tags": ["a"]}
    later = {"AWS:SOURCEIP": "198.51.100.7", "k:amr": ("pwd", 2), "k:one": "x"}
    merged = build_context(base)
    merged.update(build_context(later))
    into = build_context(base)
    assert build_context(later, into=into) is into
    assert into == merged
    assert into == {
        "aws:sourceip": "198.51.100.7",
        "k:tags": ("a",),
        "k:amr": ("pwd", "2"),
        "k:one": "x",
    }
