"""The documented example policies (reference file sections 2.2, 3.3, 6.2 and 2.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.policy.helpers import (
    ACCOUNT,
    allow,
    deny,
    make_policy,
    make_request,
)
from webfed.core.policy import (
    AuthorizationRequest,
    DecisionKind,
    PolicyKind,
    WebIdentityPrincipal,
    evaluate,
)

SUB = "cognito-identity.amazonaws.com:sub"
IDENTITY_ID = "us-east-1:12345678-1234-1234-1234-123456789012"

# Cognito developer guide, IAM roles, Example 2: S3 prefix per identity.
GAME_S3 = make_policy(
    allow(
        ["s3:ListBucket"],
        ["arn:aws:s3:::mybucket"],
        Condition={"StringLike": {"s3:prefix": ["${cognito-identity.amazonaws.com:sub}/*"]}},
    ),
    allow(
        ["s3:GetObject", "s3:PutObject"],
        ["arn:aws:s3:::mybucket/${cognito-identity.amazonaws.com:sub}/*"],
    ),
    name="game-s3",
)

# Cognito developer guide, Example 3 / IAM UG dynamodb_items: LeadingKeys per identity.
GAME_DYNAMODB = make_policy(
    allow(
        [
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        ],
        ["arn:aws:dynamodb:us-west-2:123456789012:table/MyTable"],
        Condition={
            "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]
            }
        },
    ),
    name="game-dynamodb",
)
TABLE = "arn:aws:dynamodb:us-west-2:123456789012:table/MyTable"

# IAM UG id_roles_providers_oidc_user-id: Login with Amazon, with its Amazon/amazon case bug.
AMAZON = make_policy(
    allow(
        ["s3:ListBucket"],
        ["arn:aws:s3:::myBucket"],
        Condition={
            "StringLike": {"s3:prefix": ["Amazon/mynumbersgame/${www.amazon.com:user_id}/*"]}
        },
    ),
    allow(
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        [
            "arn:aws:s3:::myBucket/amazon/mynumbersgame/${www.amazon.com:user_id}",
            "arn:aws:s3:::myBucket/amazon/mynumbersgame/${www.amazon.com:user_id}/*",
        ],
    ),
    name="amazon",
)
USER = "amzn1.account.AF6RHQUGEXAMPLE"


def game(action: str, resource: str, **extra: object) -> DecisionKind:
    context = {SUB: IDENTITY_ID, **extra}
    request = make_request(action, resource, context)  # type: ignore[arg-type]
    return evaluate(request, identity=[GAME_S3, GAME_DYNAMODB]).kind


@pytest.mark.parametrize(
    ("action", "resource", "extra", "expected"),
    [
        ("s3:GetObject", f"arn:aws:s3:::mybucket/{IDENTITY_ID}/save.json", {}, True),
        ("s3:PutObject", f"arn:aws:s3:::mybucket/{IDENTITY_ID}/a/b.json", {}, True),
        ("s3:GetObject", "arn:aws:s3:::mybucket/us-east-1:other/save.json", {}, False),
        ("s3:DeleteObject", f"arn:aws:s3:::mybucket/{IDENTITY_ID}/save.json", {}, False),
        ("s3:ListBucket", "arn:aws:s3:::mybucket", {"s3:prefix": f"{IDENTITY_ID}/"}, True),
        ("s3:ListBucket", "arn:aws:s3:::mybucket", {"s3:prefix": "other/"}, False),
        ("s3:ListBucket", "arn:aws:s3:::mybucket", {}, False),
        ("dynamodb:GetItem", TABLE, {"dynamodb:LeadingKeys": [IDENTITY_ID]}, True),
        ("dynamodb:Query", TABLE, {"dynamodb:LeadingKeys": ["someone-else"]}, False),
        ("dynamodb:Query", TABLE, {"dynamodb:LeadingKeys": [IDENTITY_ID, "x"]}, False),
        # ForAllValues is vacuously true without LeadingKeys (documented AWS behaviour).
        ("dynamodb:BatchWriteItem", TABLE, {}, True),
        ("dynamodb:Scan", TABLE, {}, False),
    ],
    ids=[
        "get-own",
        "put-own-deep",
        "get-other",
        "delete-not-granted",
        "list-own-prefix",
        "list-other-prefix",
        "list-no-prefix",
        "leading-own",
        "leading-other",
        "leading-mixed",
        "leading-absent-vacuous",
        "scan-not-granted",
    ],
)
def test_mobile_game_policies(
    action: str, resource: str, extra: dict[str, object], expected: bool
) -> None:
    assert (game(action, resource, **extra) is DecisionKind.ALLOW) is expected


def test_mobile_game_reasons() -> None:
    other = make_request("s3:GetObject", "arn:aws:s3:::mybucket/x/save.json", {SUB: IDENTITY_ID})
    decision = evaluate(other, identity=[GAME_S3, GAME_DYNAMODB])
    assert (
        decision.reason
        == "no statement allows `s3:GetObject` on `arn:aws:s3:::mybucket/x/save.json`"
    )
    listing = make_request(
        "s3:ListBucket", "arn:aws:s3:::mybucket", {SUB: IDENTITY_ID, "s3:prefix": "x/"}
    )
    decision = evaluate(listing, identity=[GAME_S3])
    assert decision.reason == (
        "condition StringLike on `s3:prefix`: wanted `${cognito-identity.amazonaws.com:sub}/*`, "
        "request had `x/`"
    )
    assert [ref.statement_index for ref in decision.statements] == [0]
    no_identity = make_request("s3:GetObject", "arn:aws:s3:::mybucket/x/save.json")
    assert "policy variable" in evaluate(no_identity, identity=[GAME_S3]).reason


@pytest.mark.parametrize(
    ("action", "resource", "prefix", "expected"),
    [
        ("s3:ListBucket", "arn:aws:s3:::myBucket", f"Amazon/mynumbersgame/{USER}/", True),
        ("s3:GetObject", f"arn:aws:s3:::myBucket/amazon/mynumbersgame/{USER}/x", None, True),
        ("s3:GetObject", f"arn:aws:s3:::myBucket/amazon/mynumbersgame/{USER}", None, True),
        # The published policy lists under Amazon/ but grants objects under amazon/: S3 keys
        # are case-sensitive, so objects a user lists cannot be read.
        ("s3:GetObject", f"arn:aws:s3:::myBucket/Amazon/mynumbersgame/{USER}/x", None, False),
        ("s3:ListBucket", "arn:aws:s3:::myBucket", f"amazon/mynumbersgame/{USER}/", False),
    ],
    ids=["list-Amazon", "get-amazon", "get-amazon-exact", "get-Amazon-case-bug", "list-amazon"],
)
def test_login_with_amazon_example(
    action: str, resource: str, prefix: str | None, expected: bool
) -> None:
    context = {"www.amazon.com:user_id": USER}
    if prefix is not None:
        context["s3:prefix"] = prefix
    decision = evaluate(make_request(action, resource, context), identity=[AMAZON])
    assert decision.allowed is expected


# --- trust policies (section 3.3) -------------------------------------------------------------

GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
GITHUB_TRUST = make_policy(
    {
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"},
        },
    },
    kind=PolicyKind.TRUST,
    name="trust",
)
GOOGLE_TRUST = make_policy(
    {
        "Effect": "Allow",
        "Principal": {"Federated": "accounts.google.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"accounts.google.com:aud": "game-app"}},
    },
    kind=PolicyKind.TRUST,
    name="trust",
)
COGNITO_TRUST = make_policy(
    {
        "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"},
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
        },
    },
    kind=PolicyKind.TRUST,
    name="trust",
)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci"


def assume(provider: str, context: dict[str, object]) -> AuthorizationRequest:
    return AuthorizationRequest.build(
        WebIdentityPrincipal(provider),
        "sts:AssumeRoleWithWebIdentity",
        ROLE,
        context,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("sub", "aud", "expected"),
    [
        ("repo:octo-org/octo-repo:ref:refs/heads/main", "sts.amazonaws.com", True),
        ("repo:octo-org/octo-repo:environment:prod", "sts.amazonaws.com", True),
        ("repo:evil-org/octo-repo:ref:refs/heads/main", "sts.amazonaws.com", False),
        ("repo:octo-org/octo-repo-fork:ref:refs/heads/main", "sts.amazonaws.com", False),
        ("repo:octo-org/octo-repo:ref:refs/heads/main", "other", False),
    ],
    ids=["main", "environment", "other-org", "prefix-confusion", "wrong-aud"],
)
def test_github_actions_trust(sub: str, aud: str, expected: bool) -> None:
    context = {
        "token.actions.githubusercontent.com:sub": sub,
        "token.actions.githubusercontent.com:aud": aud,
    }
    decision = evaluate(assume(GITHUB, context), resource=GITHUB_TRUST, resource_account=ACCOUNT)
    assert decision.allowed is expected


def test_trust_denies_other_provider_with_reason() -> None:
    context = {"accounts.google.com:aud": "game-app"}
    decision = evaluate(assume("graph.facebook.com", context), resource=GOOGLE_TRUST)
    assert decision.kind is DecisionKind.IMPLICIT_DENY
    assert decision.reason.startswith("the trust policy does not allow it")


def test_trust_aud_mismatch_reason() -> None:
    decision = evaluate(
        assume("accounts.google.com", {"accounts.google.com:aud": "other-app"}),
        resource=GOOGLE_TRUST,
    )
    assert decision.reason == (
        "the trust policy does not allow it: condition StringEquals on `accounts.google.com:aud`: "
        "wanted `game-app`, request had `other-app`"
    )
    assert decision.to_dict()["statements"] == [{"policy": "trust", "index": 0, "sid": ""}]


def test_trust_allows_matching_google_principal() -> None:
    decision = evaluate(
        assume("accounts.google.com", {"accounts.google.com:aud": "game-app"}),
        resource=GOOGLE_TRUST,
    )
    assert decision.allowed and decision.statements[0].policy == "trust"


@pytest.mark.parametrize(
    ("amr", "expected"),
    [(["authenticated", "graph.facebook.com"], True), (["unauthenticated"], False), ([], False)],
    ids=["authenticated", "guest", "empty"],
)
def test_cognito_trust_amr(amr: list[str], expected: bool) -> None:
    context = {
        "cognito-identity.amazonaws.com:aud": "us-east-1:pool",
        "cognito-identity.amazonaws.com:amr": amr,
    }
    decision = evaluate(assume("cognito-identity.amazonaws.com", context), resource=COGNITO_TRUST)
    assert decision.allowed is expected


def test_web_identity_without_trust_policy_is_denied() -> None:
    decision = evaluate(assume("accounts.google.com", {}), identity=[make_policy(allow())])
    assert not decision.allowed


# --- revoke older sessions (section 2.3) -----------------------------------------------------

REVOKE = make_policy(
    deny("*", "*", Condition={"DateLessThan": {"aws:TokenIssueTime": "2024-06-01T12:00:00Z"}}),
    name="AWSRevokeOlderSessions",
)


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        ("2024-06-01T11:59:59Z", DecisionKind.EXPLICIT_DENY),
        ("2024-06-01T12:00:00Z", DecisionKind.ALLOW),
    ],
    ids=["older-revoked", "newer-kept"],
)
def test_revoke_older_sessions(issued: str, expected: DecisionKind) -> None:
    request = AuthorizationRequest.build(
        make_request("s3:GetObject", "arn:aws:s3:::b/k").principal,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        {"aws:TokenIssueTime": issued},
        now=datetime(2024, 6, 2, tzinfo=UTC),
    )
    decision = evaluate(request, identity=[make_policy(allow()), REVOKE])
    assert decision.kind is expected
    if expected is DecisionKind.EXPLICIT_DENY:
        assert "AWSRevokeOlderSessions" in decision.reason


# --- other Cognito developer guide examples (section 6.2) -------------------------------------

COGNITO_SYNC = make_policy(
    allow(
        "cognito-sync:*",
        "arn:aws:cognito-sync:us-east-1:123456789012:identitypool/"
        "${cognito-identity.amazonaws.com:aud}/identity/${cognito-identity.amazonaws.com:sub}/*",
    ),
    name="sync",
)
ABAC = make_policy(
    allow(
        "s3:GetObject",
        "arn:aws:s3:::*-${aws:PrincipalTag/department}/*",
        Condition={
            "StringEquals": {"s3:ExistingObjectTag/clearance": "${aws:PrincipalTag/clearance}"}
        },
    ),
    name="abac",
)


@pytest.mark.parametrize(
    ("identity_id", "expected"),
    [(IDENTITY_ID, True), ("us-east-1:someone-else", False)],
    ids=["own-dataset", "other-identity"],
)
def test_cognito_sync_example(identity_id: str, expected: bool) -> None:
    resource = (
        "arn:aws:cognito-sync:us-east-1:123456789012:identitypool/us-east-1:pool/identity/"
        f"{identity_id}/dataset/scores"
    )
    context = {SUB: IDENTITY_ID, "cognito-identity.amazonaws.com:aud": "us-east-1:pool"}
    decision = evaluate(
        make_request("cognito-sync:ListRecords", resource, context), identity=[COGNITO_SYNC]
    )
    assert decision.allowed is expected


@pytest.mark.parametrize(
    ("bucket", "clearance", "expected"),
    [
        ("reports-finance", "secret", True),
        ("reports-legal", "secret", False),
        ("reports-finance", "public", False),
    ],
    ids=["matching-tags", "other-department", "other-clearance"],
)
def test_abac_example(bucket: str, clearance: str, expected: bool) -> None:
    context = {
        "aws:PrincipalTag/department": "finance",
        "aws:PrincipalTag/clearance": "secret",
        "s3:ExistingObjectTag/clearance": clearance,
    }
    request = make_request("s3:GetObject", f"arn:aws:s3:::{bucket}/q1.pdf", context)
    assert evaluate(request, identity=[ABAC]).allowed is expected
