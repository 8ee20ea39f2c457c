"""Hypothesis properties of evaluation: deny wins, allows only add, NotAction is a complement."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.policy.helpers import make_policy, make_request
from webfed.core.policy import DecisionKind, Policy, evaluate

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "dynamodb:GetItem",
    "iam:ListRoles",
    "sts:GetCallerIdentity",
]
ACTION_PATTERNS = ["*", "s3:*", "s3:Get*", "dynamodb:GetItem", "iam:List?oles", "S3:PUTOBJECT"]
RESOURCES = [
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b/other",
    "arn:aws:dynamodb:us-east-1:123456789012:table/t",
]
RESOURCE_PATTERNS = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:dynamodb:*:*:table/t"]


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, object]:
    statement: dict[str, object] = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Deny"])),
        draw(st.sampled_from(["Action", "NotAction"])): draw(
            st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3)
        ),
        draw(st.sampled_from(["Resource", "Resource", "NotResource"])): draw(
            st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)
        ),
    }
    if draw(st.booleans()):
        statement["Condition"] = {"StringEquals": {"k": draw(st.sampled_from(["1", "2"]))}}
    return statement


policies = st.lists(
    st.lists(statements(), min_size=1, max_size=4).map(lambda body: make_policy(*body)), max_size=3
)
requests = st.builds(
    lambda action, resource, value: make_request(action, resource, {"k": value}),
    st.sampled_from(ACTIONS),
    st.sampled_from(RESOURCES),
    st.sampled_from(["1", "2"]),
)


@settings(max_examples=300, deadline=None)
@given(
    identity=policies,
    session=st.none() | policies,
    request=requests,
    extra=statements("Deny"),
    place=st.sampled_from(["identity", "session", "boundary"]),
)
def test_explicit_deny_always_wins(
    identity: list[Policy],
    session: list[Policy] | None,
    request: object,
    extra: dict[str, object],
    place: str,
) -> None:
    denying = make_policy(extra, name="deny")
    applies = evaluate(request, identity=[denying]).kind is DecisionKind.EXPLICIT_DENY  # type: ignore[arg-type]
    if place == "identity":
        decision = evaluate(request, identity=[*identity, denying], session=session)  # type: ignore[arg-type]
    elif place == "session":
        decision = evaluate(request, identity=identity, session=[*(session or []), denying])  # type: ignore[arg-type]
    else:
        decision = evaluate(request, identity=identity, session=session, boundary=denying)  # type: ignore[arg-type]
    if applies:
        assert decision.kind is DecisionKind.EXPLICIT_DENY
        assert not decision.allowed


@settings(max_examples=300, deadline=None)
@given(identity=policies, session=st.none() | policies, request=requests, extra=statements("Allow"))
def test_adding_an_allow_never_removes_access(
    identity: list[Policy], session: list[Policy] | None, request: object, extra: dict[str, object]
) -> None:
    before = evaluate(request, identity=identity, session=session)  # type: ignore[arg-type]
    widened = [*identity, make_policy(extra, name="extra")]
    after = evaluate(request, identity=widened, session=session)  # type: ignore[arg-type]
    if before.allowed:
        assert after.allowed
    if before.kind is DecisionKind.EXPLICIT_DENY:
        assert after.kind is DecisionKind.EXPLICIT_DENY


@settings(max_examples=300, deadline=None)
@given(
    actions=st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(RESOURCE_PATTERNS),
)
def test_not_action_is_the_complement_of_action(
    actions: list[str], action: str, resource: str
) -> None:
    positive = make_policy({"Effect": "Allow", "Action": actions, "Resource": resource})
    negative = make_policy({"Effect": "Allow", "NotAction": actions, "Resource": resource})
    request = make_request(action, "arn:aws:s3:::b/k")
    first = evaluate(request, identity=[positive]).allowed
    second = evaluate(request, identity=[negative]).allowed
    resource_matches = resource in ("*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k")
    if resource_matches:
        assert first != second
    else:
        assert not first and not second
