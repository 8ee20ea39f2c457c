"""The documented evaluation order, same- and cross-account rules, and decision reasons."""

from __future__ import annotations

import pytest

from tests.unit.policy.helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    ROLE_ARN,
    SESSION_ARN,
    allow,
    deny,
    make_policy,
    make_request,
    session_principal,
)
from webfed.core.policy import (
    AuthorizationRequest,
    DecisionKind,
    PolicyKind,
    RootPrincipal,
    ServicePrincipal,
    evaluate,
)

OBJECT = "arn:aws:s3:::bucket/key"
GET = "s3:GetObject"
ALLOW_GET = make_policy(allow(GET, "arn:aws:s3:::bucket/*"), name="allow-get")
ALLOW_ALL = make_policy(allow(), name="allow-all")
DENY_GET = make_policy(deny(GET, "*", Sid="NoGet"), name="deny-get")
REQUEST = make_request(GET, OBJECT)


def resource_policy(principal: object, *, effect: str = "Allow") -> object:
    return make_policy(
        {"Effect": effect, "Principal": principal, "Action": GET, "Resource": OBJECT},
        kind=PolicyKind.RESOURCE,
        name="bucket-policy",
    )


def test_implicit_deny_by_default() -> None:
    decision = evaluate(REQUEST)
    assert decision.kind is DecisionKind.IMPLICIT_DENY and not decision.allowed
    assert decision.reason == f"no statement allows `{GET}` on `{OBJECT}`"


def test_identity_allow() -> None:
    decision = evaluate(REQUEST, identity=[ALLOW_GET])
    assert decision.allowed and decision.kind is DecisionKind.ALLOW
    assert decision.statements == (("allow-get", 0, ""),)


def test_action_match_is_case_insensitive() -> None:
    request = make_request("S3:getobject", OBJECT)
    assert evaluate(request, identity=[ALLOW_GET]).allowed
    assert evaluate(request, identity=[make_policy(allow("IAM:*", "*"))]).allowed is False
    assert evaluate(
        make_request("iam:ListAccessKeys", "*"), identity=[make_policy(allow("iam:*AccessKey*"))]
    ).allowed


@pytest.mark.parametrize(
    "where",
    ["identity", "session", "boundary", "guardrails", "resource"],
)
def test_explicit_deny_wins_everywhere(where: str) -> None:
    kwargs: dict[str, object] = {
        "identity": [ALLOW_ALL],
        "session": [ALLOW_ALL],
        "boundary": ALLOW_ALL,
        "guardrails": [ALLOW_ALL],
        "resource": resource_policy({"AWS": SESSION_ARN}),
    }
    if where == "resource":
        kwargs["resource"] = resource_policy("*", effect="Deny")
    elif where in ("identity", "session", "guardrails"):
        kwargs[where] = [ALLOW_ALL, DENY_GET]
    else:
        kwargs[where] = DENY_GET
    decision = evaluate(REQUEST, **kwargs)  # type: ignore[arg-type]
    assert decision.kind is DecisionKind.EXPLICIT_DENY
    assert decision.statements[0].policy in ("deny-get", "bucket-policy")


def test_explicit_deny_reason_names_policy_statement_and_sid() -> None:
    decision = evaluate(REQUEST, identity=[ALLOW_ALL, DENY_GET])
    assert (
        decision.reason
        == 'explicitly denied by identity policy `deny-get` statement 0 (Sid "NoGet")'
    )


def test_guardrails_must_allow() -> None:
    decision = evaluate(REQUEST, identity=[ALLOW_ALL], guardrails=[make_policy(allow("ec2:*"))])
    assert not decision.allowed and decision.reason.startswith("no guardrail policy allows it")
    assert not evaluate(REQUEST, identity=[ALLOW_ALL], guardrails=[]).allowed
    assert evaluate(REQUEST, identity=[ALLOW_ALL], guardrails=[ALLOW_ALL]).allowed


def test_boundary_limits_identity() -> None:
    boundary = make_policy(allow("s3:PutObject"), kind=PolicyKind.BOUNDARY, name="b")
    decision = evaluate(REQUEST, identity=[ALLOW_ALL], boundary=boundary)
    assert decision.reason == "the permissions boundary does not allow it"
    assert evaluate(REQUEST, identity=[ALLOW_ALL], boundary=ALLOW_ALL).allowed
    assert not evaluate(REQUEST, identity=[], boundary=ALLOW_ALL).allowed


def test_session_policy_none_versus_empty() -> None:
    assert evaluate(REQUEST, identity=[ALLOW_ALL], session=None).allowed
    decision = evaluate(REQUEST, identity=[ALLOW_ALL], session=[])
    assert decision.reason == "the session policy does not allow it"
    assert evaluate(REQUEST, identity=[ALLOW_ALL], session=[ALLOW_GET]).allowed
    assert not evaluate(
        REQUEST, identity=[ALLOW_GET], session=[make_policy(allow("s3:Put*"))]
    ).allowed


def test_allow_lists_every_deciding_statement() -> None:
    decision = evaluate(REQUEST, identity=[ALLOW_GET], boundary=ALLOW_ALL, session=[ALLOW_ALL])
    assert [ref.policy for ref in decision.statements] == ["allow-get", "allow-all", "allow-all"]


# --- resource policies, same account ---------------------------------------------------------


def test_same_account_grant_to_session_arn_needs_nothing_else() -> None:
    decision = evaluate(
        REQUEST,
        resource=resource_policy({"AWS": SESSION_ARN}),
        boundary=make_policy(allow("ec2:*")),
        session=[],
        resource_account=ACCOUNT,
    )
    assert decision.allowed and decision.statements == (("bucket-policy", 0, ""),)


def test_same_account_grant_to_role_arn_is_limited_by_boundary_and_session() -> None:
    granted = resource_policy({"AWS": ROLE_ARN})
    assert evaluate(REQUEST, resource=granted, resource_account=ACCOUNT).allowed
    assert not evaluate(REQUEST, resource=granted, session=[], resource_account=ACCOUNT).allowed
    narrow = make_policy(allow("ec2:*"))
    assert not evaluate(
        REQUEST, resource=granted, boundary=narrow, resource_account=ACCOUNT
    ).allowed


def test_role_unique_id_names_the_role() -> None:
    granted = resource_policy({"AWS": "AROADBQP57FF2AEXAMPLE"})
    assert evaluate(REQUEST, resource=granted, resource_account=ACCOUNT).allowed


def test_same_account_grant_to_account_delegates_to_identity() -> None:
    granted = resource_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert not evaluate(REQUEST, resource=granted, resource_account=ACCOUNT).allowed
    assert evaluate(
        REQUEST, resource=granted, identity=[ALLOW_GET], resource_account=ACCOUNT
    ).allowed


def test_resource_account_defaults_to_arn_account_or_same() -> None:
    table = f"arn:aws:dynamodb:us-east-1:{OTHER_ACCOUNT}:table/t"
    request = make_request("dynamodb:GetItem", table)
    decision = evaluate(request, identity=[ALLOW_ALL])
    assert not decision.allowed and OTHER_ACCOUNT in decision.reason
    assert evaluate(
        make_request("dynamodb:GetItem", table.replace(OTHER_ACCOUNT, ACCOUNT)),
        identity=[ALLOW_ALL],
    ).allowed


# --- cross account ----------------------------------------------------------------------------


def test_cross_account_needs_both_sides() -> None:
    granted = resource_policy({"AWS": ACCOUNT})
    both = evaluate(REQUEST, identity=[ALLOW_GET], resource=granted, resource_account=OTHER_ACCOUNT)
    assert both.allowed
    assert [ref.policy for ref in both.statements] == ["allow-get", "bucket-policy"]
    assert not evaluate(REQUEST, resource=granted, resource_account=OTHER_ACCOUNT).allowed
    assert not evaluate(REQUEST, identity=[ALLOW_GET], resource_account=OTHER_ACCOUNT).allowed
    # Even a grant to the session ARN needs the identity side across accounts.
    to_session = resource_policy({"AWS": SESSION_ARN})
    assert not evaluate(REQUEST, resource=to_session, resource_account=OTHER_ACCOUNT).allowed


def test_principal_is_matched_exactly() -> None:
    other_session = make_request(GET, OBJECT, principal=session_principal(name="alice2"))
    granted = resource_policy({"AWS": SESSION_ARN})
    assert not evaluate(other_session, resource=granted, resource_account=ACCOUNT).allowed
    other_account = make_request(GET, OBJECT, principal=session_principal(account=OTHER_ACCOUNT))
    assert not evaluate(
        other_account,
        identity=[ALLOW_GET],
        resource=resource_policy({"AWS": ACCOUNT}),
        resource_account=ACCOUNT,
    ).allowed


def test_not_principal() -> None:
    policy = make_policy(
        {"Effect": "Deny", "NotPrincipal": {"AWS": SESSION_ARN}, "Action": "*", "Resource": "*"},
        allow("*", "*", Principal="*"),
        kind=PolicyKind.RESOURCE,
    )
    assert evaluate(REQUEST, resource=policy, resource_account=ACCOUNT).allowed
    stranger = make_request(GET, OBJECT, principal=session_principal(name="bob"))
    assert (
        evaluate(stranger, resource=policy, resource_account=ACCOUNT).kind
        is DecisionKind.EXPLICIT_DENY
    )


# --- principals of other kinds ----------------------------------------------------------------


def test_root_is_allowed_by_default_but_not_past_explicit_deny() -> None:
    root = make_request(GET, OBJECT, principal=RootPrincipal(ACCOUNT))
    assert evaluate(root).allowed
    assert evaluate(root, identity=[DENY_GET]).kind is DecisionKind.EXPLICIT_DENY
    assert not evaluate(root, resource_account=OTHER_ACCOUNT).allowed


def test_service_principal_needs_resource_grant() -> None:
    service = make_request(GET, OBJECT, principal=ServicePrincipal("cloudtrail.amazonaws.com"))
    granted = resource_policy({"Service": "cloudtrail.amazonaws.com"})
    assert evaluate(service, resource=granted).allowed
    assert not evaluate(service, resource=resource_policy({"Service": "ec2.amazonaws.com"})).allowed


# --- resources --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket2/a", False),
        ("arn:aws:dynamodb:*:*:table/T", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/T", True),
        ("arn:aws:dynamodb:us-*:*:table/T", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/T", False),
        (
            "arn:aws:logs:*:*:log-group:g:*",
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:log-stream:s",
            True,
        ),
        ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/k", True),
        ("arn:aws:s3:::BUCKET/*", "arn:aws:s3:::bucket/k", False),
        ("*", "not-an-arn", True),
        ("arn:aws:s3:::*", "not-an-arn", False),
    ],
    ids=[
        "prefix",
        "other-bucket",
        "region-account-star",
        "region-glob-miss",
        "colon-in-resource",
        "question",
        "case-sensitive",
        "star-any",
        "non-arn-request",
    ],
)
def test_resource_matching(pattern: str, resource: str, expected: bool) -> None:
    decision = evaluate(
        make_request("s3:GetObject", resource),
        identity=[make_policy(allow("*", pattern))],
        resource_account=ACCOUNT,
    )
    assert decision.allowed is expected


def test_not_resource_and_not_action() -> None:
    policy = make_policy(
        {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}
    )
    assert evaluate(REQUEST, identity=[policy]).allowed
    assert not evaluate(make_request(GET, "arn:aws:s3:::secret/k"), identity=[policy]).allowed
    assert not evaluate(make_request("IAM:CreateRole", "*"), identity=[policy]).allowed


def test_unresolved_variable_in_not_resource_fails_closed() -> None:
    allow_not = make_policy(
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b/${aws:username}/*"}
    )
    assert not evaluate(REQUEST, identity=[allow_not]).allowed
    deny_not = make_policy(
        {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::b/${aws:username}/*"}
    )
    assert evaluate(REQUEST, identity=[ALLOW_ALL, deny_not]).kind is DecisionKind.EXPLICIT_DENY


def test_variables_are_literal_without_2012_version() -> None:
    legacy = make_policy(allow("*", "arn:aws:s3:::b/${aws:username}"), version="2008-10-17")
    literal = make_request(GET, "arn:aws:s3:::b/${aws:username}", {"aws:username": "x"})
    substituted = make_request(GET, "arn:aws:s3:::b/x", {"aws:username": "x"})
    assert evaluate(literal, identity=[legacy]).allowed
    assert not evaluate(substituted, identity=[legacy]).allowed
    absent = make_policy(allow("*", "arn:aws:s3:::b/${aws:username}"), version=None)
    assert evaluate(literal, identity=[absent]).allowed


def test_request_build_adds_principal_and_time_keys() -> None:
    from datetime import UTC, datetime

    request = AuthorizationRequest.build(
        session_principal(),
        GET,
        OBJECT,
        {"AWS:UserId": "override"},
        now=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert request.context["aws:principalarn"] == ROLE_ARN
    assert request.context["aws:userid"] == "override"
    assert request.context["aws:currenttime"] == "2024-01-02T03:04:05Z"
    assert request.context["aws:epochtime"] == "1704164645"


def test_decision_to_dict() -> None:
    decision = evaluate(REQUEST, identity=[ALLOW_ALL, DENY_GET])
    assert decision.to_dict() == {
        "allowed": False,
        "decision": "explicit_deny",
        "reason": decision.reason,
        "statements": [{"policy": "deny-get", "index": 0, "sid": "NoGet"}],
    }
