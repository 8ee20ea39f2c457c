"""decide(): every context key, tag precedence, session policies, boundary, deleted roles,
resource policies, the administrator, and denials that explain themselves."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.authorize.helpers import ACCOUNT, IDENTITY, NOW, POOL, game_session, ring
from tests.unit.authorize.policies import Policies, allow, deny, document, game_role
from webfed.authorize import (
    AuthorizationResult,
    RequestFacts,
    SessionViews,
    decide,
    denial,
    session_context_keys,
)
from webfed.core.authz_message import decode_authorization_message
from webfed.core.credentials import SessionContext
from webfed.core.entities import Tag
from webfed.core.policy import Decision, DecisionKind, PolicyKind, parse_policy
from webfed.errors import AccessDenied
from webfed.verify import VerifiedCaller, admin_caller, session_caller

FACTS = RequestFacts(NOW, source_ip="10.1.2.3", secure_transport=True, region="us-east-1")
OBJECT = f"arn:aws:s3:::game-saves/{IDENTITY}/slot-1"


def caller_for(session: SessionContext | None = None) -> VerifiedCaller:
    return session_caller("ASIAEXAMPLE", session or game_session())


async def decide_with(
    policies: Policies,
    action: str = "s3:GetObject",
    resource: str = OBJECT,
    *,
    caller: VerifiedCaller | None = None,
    facts: RequestFacts = FACTS,
    **kwargs: Any,
) -> Decision:
    return await decide(policies, caller or caller_for(), action, resource, facts, **kwargs)


# --- every key of the request context ---------------------------------------------------------

_KEYS = [
    ("StringEquals", "aws:userid", "AROAGAMEPLAYEREXAMPLE:player-42", "AROAOTHER:player-42"),
    ("StringEquals", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/game/GamePlayer", "x"),
    ("StringEquals", "aws:PrincipalAccount", ACCOUNT, "210987654321"),
    ("StringEquals", "aws:PrincipalType", "AssumedRole", "Account"),
    ("StringEquals", "aws:PrincipalTag/team", "red", "blue"),
    ("StringEquals", "aws:FederatedProvider", "cognito-identity.amazonaws.com", "www.amazon.com"),
    ("StringEquals", "aws:TokenIssueTime", "2026-11-26T05:55:00Z", "2026-11-26T05:56:00Z"),
    ("StringEquals", "aws:SourceIdentity", "player-42@example.com", "someone"),
    ("DateEquals", "aws:CurrentTime", "2026-11-26T06:00:00Z", "2026-11-26T06:00:01Z"),
    ("NumericEquals", "aws:EpochTime", str(int(NOW.timestamp())), "0"),
    ("Bool", "aws:SecureTransport", "true", "false"),
    ("Bool", "aws:MultiFactorAuthPresent", "false", "true"),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8", "192.168.0.0/16"),
    ("StringEquals", "aws:RequestedRegion", "us-east-1", "eu-west-1"),
    ("StringEquals", "cognito-identity.amazonaws.com:aud", POOL, "us-east-1:other-pool"),
    ("StringEquals", "cognito-identity.amazonaws.com:sub", IDENTITY, "us-east-1:other"),
    ("ForAnyValue:StringEquals", "cognito-identity.amazonaws.com:amr", "authenticated", "x"),
    ("StringLike", "s3:prefix", f"{IDENTITY}/*", "someone-else/*"),
]


@pytest.mark.parametrize(
    ("operator", "key", "match", "other"), _KEYS, ids=[row[1] for row in _KEYS]
)
async def test_every_context_key(operator: str, key: str, match: str, other: str) -> None:
    context = {"s3:prefix": f"{IDENTITY}/saves"}
    for value, expected in ((match, True), (other, False)):
        policy = document(allow("s3:GetObject") | {"Condition": {operator: {key: value}}})
        decision = await decide_with(Policies(identity=[policy]), context=context)
        assert decision.allowed is expected, (key, value)


async def test_unknown_transport_facts_are_absent() -> None:
    """Keys that do not apply are missing, so ...IfExists passes and a plain test fails."""
    bare = RequestFacts(NOW)
    exists = Policies(identity=[document(allow("*", Bool={"aws:SecureTransport": "true"}))])
    if_exists = Policies(
        identity=[document(allow("*", BoolIfExists={"aws:SecureTransport": "true"}))]
    )
    assert not (await decide_with(exists, facts=bare)).allowed
    assert (await decide_with(if_exists, facts=bare)).allowed


async def test_policy_variable_from_the_web_identity() -> None:
    own = "arn:aws:s3:::game-saves/${cognito-identity.amazonaws.com:sub}/*"
    policies = Policies(identity=[document(allow(["s3:GetObject", "s3:PutObject"], own))])
    assert (await decide_with(policies)).allowed
    stranger = "arn:aws:s3:::game-saves/us-east-1:someone-else/slot-1"
    assert not (await decide_with(policies, resource=stranger)).allowed


async def test_service_keys_cannot_impersonate() -> None:
    policies = Policies(
        identity=[document(allow("*", StringEquals={"aws:PrincipalTag/team": "blue"}))]
    )
    forged = {"aws:PrincipalTag/team": "blue", "aws:userid": "AROAADMIN:root"}
    assert not (await decide_with(policies, context=forged)).allowed


# --- tags -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_tags", "session_tags", "expected"),
    [
        ((Tag("team", "blue"),), (("Team", "red"),), "red"),
        ((Tag("team", "blue"),), (), "blue"),
        ((), (("team", "red"),), "red"),
    ],
    ids=["session-wins-any-case", "role-only", "session-only"],
)
async def test_principal_tag_precedence(
    role_tags: tuple[Tag, ...], session_tags: tuple[tuple[str, str], ...], expected: str
) -> None:
    policies = Policies(
        role=game_role(tags=role_tags),
        identity=[document(allow("*", StringEquals={"aws:PrincipalTag/team": expected}))],
    )
    caller = caller_for(game_session(session_tags=session_tags))
    assert (await decide_with(policies, caller=caller)).allowed
    keys = session_context_keys(caller.session, role_tags, source_ip=None)  # type: ignore[arg-type]
    assert [v for k, v in keys.items() if k.lower() == "aws:principaltag/team"] == [expected]


# --- the layers that narrow -------------------------------------------------------------------

ALL_S3 = document(allow("s3:*"))


async def test_session_policy_narrows() -> None:
    session = game_session(session_policy=document(allow("s3:GetObject")))
    policies = Policies(identity=[ALL_S3])
    assert (await decide_with(policies, caller=caller_for(session))).allowed
    put = await decide_with(policies, "s3:PutObject", caller=caller_for(session))
    assert not put.allowed
    assert put.kind is DecisionKind.IMPLICIT_DENY


async def test_session_policy_never_widens() -> None:
    session = game_session(session_policy=document(allow("dynamodb:*")))
    policies = Policies(identity=[ALL_S3])
    caller = caller_for(session)
    assert not (await decide_with(policies, "dynamodb:GetItem", caller=caller)).allowed


async def test_deleted_managed_session_policy_grants_nothing() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ReadSaves"
    session = game_session(session_policy_arns=(arn,))
    policies = Policies(identity=[ALL_S3], managed={arn: document(allow("s3:GetObject"))})
    views = SessionViews()
    caller = caller_for(session)
    assert (await decide_with(policies, caller=caller, views=views)).allowed
    policies.change(managed={})
    assert not (await decide_with(policies, caller=caller, views=views)).allowed


async def test_boundary_limits_the_role() -> None:
    policies = Policies(identity=[ALL_S3], boundary=document(allow("s3:GetObject")))
    assert (await decide_with(policies)).allowed
    assert not (await decide_with(policies, "s3:DeleteObject")).allowed


async def test_explicit_deny_wins() -> None:
    policies = Policies(identity=[ALL_S3, document(deny("s3:DeleteObject"))])
    decision = await decide_with(policies, "s3:DeleteObject")
    assert decision.kind is DecisionKind.EXPLICIT_DENY


async def test_revoke_older_sessions() -> None:
    """AWS's AWSRevokeOlderSessions: deny everything to sessions issued before a moment."""
    revoke = deny("*", DateLessThan={"aws:TokenIssueTime": "2026-11-26T05:58:00Z"})
    policies = Policies(identity=[ALL_S3, document(revoke)])
    older = caller_for(game_session())  # issued 05:55
    newer = caller_for(game_session(issued_at=NOW))
    assert (await decide_with(policies, caller=older)).kind is DecisionKind.EXPLICIT_DENY
    assert (await decide_with(policies, caller=newer)).allowed


@pytest.mark.parametrize(
    "role", [None, game_role(role_id="AROARECREATEDROLE000")], ids=["deleted", "re-created"]
)
async def test_a_role_that_is_gone_allows_nothing(role: Any) -> None:
    policies = Policies(role=role, identity=[ALL_S3])
    decision = await decide_with(policies)
    assert not decision.allowed
    assert "no longer exists" in decision.reason


async def test_policy_change_rebuilds_the_session_view() -> None:
    policies = Policies(identity=[ALL_S3])
    views = SessionViews()
    caller = caller_for()
    assert (await decide_with(policies, views=views)).allowed
    assert (await decide_with(policies, views=views, caller=caller)).allowed
    policies.change(identity=[document(allow("dynamodb:*"))])
    assert not (await decide_with(policies, views=views, caller=caller)).allowed
    assert len(views) == 2  # two distinct session objects seen


# --- resource policies and the administrator --------------------------------------------------


def _bucket_policy(effect: str, principal: str) -> Any:
    statement = {
        "Effect": effect,
        "Principal": {"AWS": principal},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::game-saves/*",
    }
    return parse_policy(document(statement), PolicyKind.RESOURCE, name="bucket")


async def test_resource_policy_naming_the_session_allows_alone() -> None:
    bucket = _bucket_policy("Allow", f"arn:aws:sts::{ACCOUNT}:assumed-role/GamePlayer/player-42")
    assert (await decide_with(Policies(), resource_policy=bucket)).allowed


async def test_admin_is_allowed_unless_a_resource_policy_denies() -> None:
    admin = admin_caller("AKIAADMIN", ACCOUNT)
    assert (await decide_with(Policies(role=None), caller=admin)).allowed
    bucket = _bucket_policy("Deny", "*")
    denied = await decide_with(Policies(role=None), caller=admin, resource_policy=bucket)
    assert denied.kind is DecisionKind.EXPLICIT_DENY


# --- denials explain themselves ---------------------------------------------------------------


async def test_denial_carries_a_decodable_message() -> None:
    key_ring = ring()
    caller = caller_for()
    decision = await decide_with(Policies(identity=[ALL_S3]), "dynamodb:GetItem")
    error = denial(
        caller,
        "dynamodb:GetItem",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Scores",
        decision,
        key_ring=key_ring,
        rng=random.Random(1),
        now=NOW,
        context={"dynamodb:LeadingKeys": [IDENTITY]},
    )
    assert isinstance(error, AccessDenied)
    assert error.message.startswith(f"User: {caller.arn} is not authorized to perform")
    assert error.encoded_message is not None
    assert "Encoded authorization failure message" in error.full_message
    decoded = decode_authorization_message(error.encoded_message, key_ring)
    assert decoded["allowed"] is False
    assert decoded["context"]["action"] == "dynamodb:GetItem"  # type: ignore[index]
    assert decoded["reason"] == decision.reason
    result = AuthorizationResult(caller, "dynamodb:GetItem", "*", decision, error)
    with pytest.raises(AccessDenied):
        result.raise_for_denial()


# --- properties -------------------------------------------------------------------------------

_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]


@settings(max_examples=50, deadline=None)
@given(
    role=st.sets(st.sampled_from(_ACTIONS)),
    session=st.sets(st.sampled_from(_ACTIONS)),
    boundary=st.none() | st.sets(st.sampled_from(_ACTIONS)),
    action=st.sampled_from(_ACTIONS),
)
async def test_allowed_only_where_every_layer_allows(
    role: set[str], session: set[str], boundary: set[str] | None, action: str
) -> None:
    def granting(actions: set[str]) -> str:
        return document(*[allow(a) for a in sorted(actions)] or [allow("sqs:SendMessage")])

    policies = Policies(
        identity=[granting(role)], boundary=None if boundary is None else granting(boundary)
    )
    caller = caller_for(game_session(session_policy=granting(session)))
    decision = await decide_with(policies, action, caller=caller)
    expected = action in role and action in session and (boundary is None or action in boundary)
    assert decision.allowed is expected
