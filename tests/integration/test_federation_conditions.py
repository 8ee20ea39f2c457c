"""Trust-policy condition keys of ``AssumeRoleWithWebIdentity``, and properties of the exchange.

The keys (IAM User Guide, "Available keys for web identity federation" and "AWS global condition
context keys"; ``docs/oidc.md``): ``<p>:amr`` is multivalued, ``aws:FederatedProvider`` is the
provider's ARN, ``aws:SourceIp`` the caller's address, ``aws:CurrentTime`` / ``aws:EpochTime``
the server's clock, and every other top-level claim is ``<p>:<claim>``. Then Hypothesis drives
the real server: any session name is either accepted verbatim or refused with a 400, and any
claim value a trust policy pins matches exactly that value; never a 500.
"""

from __future__ import annotations

import re
import string
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_federation_harness import (
    CLIENT_ID,
    Federation,
    error_of,
    federation,
)

__all__ = ["federation"]

SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _accepted(federation: Federation, role_arn: str, token: str, **params: Any) -> bool:
    try:
        federation.assume(role_arn, token, **params)
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied", error.response
        return False
    return True


def _role_with(federation: Federation, condition: dict[str, Any]) -> str:
    return federation.role(federation.web_identity_statement(condition))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    (
        "amr-any-value-matches",
        lambda f: {"ForAnyValue:StringEquals": {f"{f.prefix}:amr": "mfa"}},
        {"amr": ["pwd", "mfa"]},
        True,
    ),
    (
        "amr-any-value-misses",
        lambda f: {"ForAnyValue:StringEquals": {f"{f.prefix}:amr": "mfa"}},
        {"amr": ["pwd"]},
        False,
    ),
    (
        "federated-provider-is-the-arn",
        lambda f: {"StringEquals": {"aws:FederatedProvider": f.provider_arn}},
        {},
        True,
    ),
    (
        "federated-provider-other",
        lambda f: {"StringEquals": {"aws:FederatedProvider": "accounts.google.com"}},
        {},
        False,
    ),
    (
        "source-ip-loopback",
        lambda f: {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
        {},
        True,
    ),
    (
        "source-ip-elsewhere",
        lambda f: {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
        {},
        False,
    ),
    (
        "current-time-after-yesterday",
        lambda f: {
            "DateGreaterThan": {"aws:CurrentTime": _iso(datetime.now(UTC) - timedelta(days=1))}
        },
        {},
        True,
    ),
    (
        "current-time-after-tomorrow",
        lambda f: {
            "DateGreaterThan": {"aws:CurrentTime": _iso(datetime.now(UTC) + timedelta(days=1))}
        },
        {},
        False,
    ),
    (
        "epoch-time-numeric",
        lambda f: {"NumericLessThan": {"aws:EpochTime": str(int(time.time()) + 86_400)}},
        {},
        True,
    ),
    (
        "azp-key",
        lambda f: {"StringEquals": {f"{f.prefix}:azp": CLIENT_ID}},
        {"azp": CLIENT_ID},
        True,
    ),
    (
        "numeric-claim-as-text",
        lambda f: {"StringEquals": {f"{f.prefix}:tier": "3"}},
        {"tier": 3},
        True,
    ),
    (
        "boolean-claim-as-text",
        lambda f: {"StringEquals": {f"{f.prefix}:email_verified": "true"}},
        {"email_verified": True},
        True,
    ),
    (
        "list-claim-any-value",
        lambda f: {"ForAnyValue:StringLike": {f"{f.prefix}:groups": "admins*"}},
        {"groups": ["users", "admins-eu"]},
        True,
    ),
    (
        "missing-claim-null-check",
        lambda f: {"Null": {f"{f.prefix}:tenant": "true"}},
        {},
        True,
    ),
    (
        "missing-claim-string-equals",
        lambda f: {"StringEquals": {f"{f.prefix}:tenant": "acme"}},
        {},
        False,
    ),
]


@pytest.mark.parametrize(
    ("condition", "claims", "allowed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_condition_keys(
    federation: Federation, condition: Any, claims: dict[str, Any], allowed: bool
) -> None:
    arn = _role_with(federation, condition(federation))
    assert _accepted(federation, arn, federation.token(**claims)) is allowed


# --- properties, through the real server ---------------------------------------------------------


@pytest.fixture(scope="module")
def open_role(federation: Federation) -> str:
    return federation.role()


@PROPERTY_SETTINGS
@given(name=st.text(alphabet=string.printable + "é€", min_size=0, max_size=70))
def test_any_session_name_is_accepted_verbatim_or_refused_with_400(
    federation: Federation, open_role: str, name: str
) -> None:
    try:
        result = federation.assume(open_role, federation.token(), RoleSessionName=name)
    except botocore.exceptions.ClientError as error:
        code, status = error_of_response(error)
        assert status == 400, (code, status)
        assert code == "ValidationError"
        assert not SESSION_NAME.fullmatch(name)
        return
    assert SESSION_NAME.fullmatch(name)
    assert result["AssumedRoleUser"]["Arn"].endswith(f"/{name}")


def error_of_response(error: botocore.exceptions.ClientError) -> tuple[str, int]:
    response = error.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


CLAIM_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
    min_size=1,
    max_size=40,
)


# Awkward on purpose: wildcards are literal under StringEquals; "${$}" is how a policy writes "$"
# (a bare "${...}" would be a policy variable).
PINNED_IN_POLICY = "blue/green *?${$}{x} é"
PINNED = "blue/green *?${x} é"


@pytest.fixture(scope="module")
def pinned_role(federation: Federation) -> tuple[str, str]:
    """A role that pins the claim ``team`` to :data:`PINNED`."""
    condition = {
        "StringEquals": {
            f"{federation.prefix}:aud": CLIENT_ID,
            f"{federation.prefix}:team": PINNED_IN_POLICY,
        }
    }
    return _role_with(federation, condition), PINNED


@PROPERTY_SETTINGS
@given(team=st.one_of(st.just(PINNED), CLAIM_TEXT, CLAIM_TEXT.map(lambda text: PINNED + text)))
def test_a_pinned_claim_matches_only_its_value(
    federation: Federation, pinned_role: tuple[str, str], team: str
) -> None:
    arn, value = pinned_role
    assert _accepted(federation, arn, federation.token(team=team)) is (team == value)


def test_the_pinned_value_itself(federation: Federation, pinned_role: tuple[str, str]) -> None:
    arn, value = pinned_role
    assert _accepted(federation, arn, federation.token(team=value))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(arn, federation.token(team=value.upper()))
    assert error_of(caught) == ("AccessDenied", 403)


def test_a_claim_spelled_sub_in_capitals_cannot_impersonate_a_subject(
    federation: Federation,
) -> None:
    role_arn = _role_with(federation, {"StringEquals": {f"{federation.prefix}:sub": "victim"}})
    forged = federation.token(sub="attacker", SUB="victim")
    assert not _accepted(federation, role_arn, forged)
    assert _accepted(federation, role_arn, federation.token(sub="victim"))
