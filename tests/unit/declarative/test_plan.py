"""The planner: pure desired-vs-current comparisons, order, idempotence, prune."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.declarative.helpers import ACCOUNT, ISSUER, PROVIDER_ARN, allow, trust
from webfed.declarative import changes as c
from webfed.declarative.changes import Effect, Step
from webfed.declarative.model import (
    InlinePolicy,
    ManagedPolicy,
    PolicyDocument,
    Provider,
    Role,
    State,
    Tags,
)
from webfed.declarative.plan import Plan, plan

POLICY = ManagedPolicy("scores", allow(), path="/game/")
POLICY_ARN = POLICY.arn(ACCOUNT)
PROVIDER = Provider(ISSUER, client_ids=("game-app",))
ROLE = Role(
    "player",
    trust(),
    inline_policies=(InlinePolicy("saves", allow("s3:PutObject")),),
    managed_policies=(POLICY_ARN,),
    tags=Tags.of({"team": "games"}),
)
DESIRED = State(ACCOUNT, (PROVIDER,), (POLICY,), (ROLE,))
EMPTY = State(ACCOUNT)


def only(result: Plan) -> c.Change:
    assert len(result.changes) == 1, [x.describe() for x in result.changes]
    return result.changes[0]


def test_everything_is_created_in_dependency_order() -> None:
    result = plan(DESIRED, EMPTY)
    assert [type(change) for change in result.changes] == [
        c.CreateProvider,
        c.CreatePolicy,
        c.CreateRole,
        c.PutInlinePolicy,
        c.AttachPolicy,
    ]
    assert all(change.effect is Effect.CREATE for change in result.changes)
    assert [change.step for change in result.changes] == sorted(
        change.step for change in result.changes
    )


def test_same_state_plans_nothing() -> None:
    result = plan(DESIRED, DESIRED)
    assert result.empty and result.warnings == ()


def test_document_formatting_is_not_a_change() -> None:
    reformatted = PolicyDocument.from_text(
        '{\n  "Statement": [{"Resource": "arn:aws:s3:::bucket/*", "Action": "s3:GetObject",'
        ' "Effect": "Allow"}],\n  "Version": "2012-10-17"\n}'
    )
    current = dataclasses.replace(
        DESIRED, policies=(dataclasses.replace(POLICY, document=reformatted),)
    )
    assert plan(DESIRED, current).empty


def test_trust_policy_update() -> None:
    current = dataclasses.replace(
        DESIRED, roles=(dataclasses.replace(ROLE, trust_policy=trust(audience="old")),)
    )
    change = only(plan(DESIRED, current))
    assert change == c.UpdateTrustPolicy("player", trust())


def test_role_attributes_update() -> None:
    current = dataclasses.replace(
        DESIRED,
        roles=(dataclasses.replace(ROLE, description="old", max_session_duration=7200),),
    )
    assert only(plan(DESIRED, current)) == c.UpdateRole("player", "", 3600)


def test_roles_match_case_insensitively_and_use_the_stored_name() -> None:
    current = dataclasses.replace(
        DESIRED, roles=(dataclasses.replace(ROLE, name="Player", trust_policy=trust(audience="x")),)
    )
    change = only(plan(DESIRED, current))
    assert isinstance(change, c.UpdateTrustPolicy) and change.role_name == "Player"


def test_new_policy_version_when_the_document_changes() -> None:
    current = dataclasses.replace(
        DESIRED,
        policies=(
            dataclasses.replace(
                POLICY, document=allow("s3:*"), default_version_id="v2", version_ids=("v1", "v2")
            ),
        ),
    )
    assert only(plan(DESIRED, current)) == c.CreatePolicyVersion(POLICY_ARN, allow(), None)


def test_oldest_non_default_version_is_deleted_at_five() -> None:
    stored = dataclasses.replace(
        POLICY,
        document=allow("s3:*"),
        default_version_id="v1",
        version_ids=("v1", "v3", "v4", "v5", "v6"),
    )
    current = dataclasses.replace(DESIRED, policies=(stored,))
    change = only(plan(DESIRED, current))
    assert change == c.CreatePolicyVersion(POLICY_ARN, allow(), "v3")
    assert "v3" in change.describe()


def test_policy_description_cannot_change_so_it_warns() -> None:
    current = dataclasses.replace(
        DESIRED, policies=(dataclasses.replace(POLICY, description="older words"),)
    )
    result = plan(DESIRED, current)
    assert result.empty
    assert "description" in result.warnings[0]


def test_inline_policies_converge() -> None:
    desired_role = dataclasses.replace(
        ROLE,
        inline_policies=(InlinePolicy("saves", allow("s3:*")), InlinePolicy("new", allow())),
    )
    current_role = dataclasses.replace(
        ROLE,
        inline_policies=(InlinePolicy("saves", allow()), InlinePolicy("stale", allow())),
    )
    result = plan(
        dataclasses.replace(DESIRED, roles=(desired_role,)),
        dataclasses.replace(DESIRED, roles=(current_role,)),
    )
    assert set(result.changes) == {
        c.PutInlinePolicy("player", "saves", allow("s3:*"), False),
        c.PutInlinePolicy("player", "new", allow(), True),
        c.DeleteInlinePolicy("player", "stale"),
    }
    effects = {type(x).__name__ + ":" + x.effect.value for x in result.changes}
    assert effects == {
        "PutInlinePolicy:update",
        "PutInlinePolicy:create",
        "DeleteInlinePolicy:delete",
    }


def test_attachments_and_boundary_converge() -> None:
    other = "arn:aws:iam::123456789012:policy/other"
    current_role = dataclasses.replace(ROLE, managed_policies=(other,), permissions_boundary=other)
    result = plan(DESIRED, dataclasses.replace(DESIRED, roles=(current_role,)))
    assert result.changes == (
        c.AttachPolicy("player", POLICY_ARN),
        c.DetachPolicy("player", other),
        c.DeleteBoundary("player"),
    )
    bounded = dataclasses.replace(ROLE, permissions_boundary=POLICY_ARN)
    result = plan(dataclasses.replace(DESIRED, roles=(bounded,)), DESIRED)
    assert only(result) == c.PutBoundary("player", POLICY_ARN)


def test_role_tags_compare_keys_case_insensitively() -> None:
    current_role = dataclasses.replace(ROLE, tags=Tags.of({"Team": "games", "Old": "x"}))
    result = plan(DESIRED, dataclasses.replace(DESIRED, roles=(current_role,)))
    assert result.changes == (c.UntagRole("player", ("Old",)),)
    changed = dataclasses.replace(ROLE, tags=Tags.of({"team": "arcade"}))
    result = plan(dataclasses.replace(DESIRED, roles=(changed,)), DESIRED)
    assert only(result) == c.TagRole("player", Tags.of({"team": "arcade"}))


def test_provider_changes() -> None:
    desired = Provider(
        ISSUER,
        client_ids=("a", "b"),
        thumbprints=("f" * 40,),
        tags=Tags.of({"Team": "x"}),
    )
    current = Provider(ISSUER, client_ids=("b", "c"), tags=Tags.of({"team": "x"}))
    result = plan(
        dataclasses.replace(DESIRED, providers=(desired,)),
        dataclasses.replace(DESIRED, providers=(current,)),
    )
    assert result.changes == (
        c.AddClientId(PROVIDER_ARN, "a"),
        c.RemoveClientId(PROVIDER_ARN, "c"),
        c.SetThumbprints(PROVIDER_ARN, ("f" * 40,)),
        c.UntagProvider(PROVIDER_ARN, ("team",)),
        c.TagProvider(PROVIDER_ARN, Tags.of({"Team": "x"})),
    )


def test_policy_tags() -> None:
    tagged = dataclasses.replace(POLICY, tags=Tags.of({"a": "1"}))
    result = plan(dataclasses.replace(DESIRED, policies=(tagged,)), DESIRED)
    assert only(result) == c.TagPolicy(POLICY_ARN, Tags.of({"a": "1"}))
    result = plan(DESIRED, dataclasses.replace(DESIRED, policies=(tagged,)))
    assert only(result) == c.UntagPolicy(POLICY_ARN, ("a",))


EXTRA_POLICY = ManagedPolicy("legacy", allow(), default_version_id="v2", version_ids=("v1", "v2"))
EXTRA_ROLE = Role(
    "legacy-role",
    trust(),
    inline_policies=(InlinePolicy("x", allow()),),
    managed_policies=(EXTRA_POLICY.arn(ACCOUNT),),
)
EXTRA_PROVIDER = Provider("https://old.example.com")
CURRENT_WITH_EXTRAS = State(
    ACCOUNT,
    (PROVIDER, EXTRA_PROVIDER),
    (POLICY, EXTRA_POLICY),
    (ROLE, EXTRA_ROLE),
)


def test_without_prune_nothing_undeclared_is_deleted() -> None:
    assert plan(DESIRED, CURRENT_WITH_EXTRAS).empty


def test_prune_deletes_in_the_order_iam_requires() -> None:
    legacy_arn = EXTRA_POLICY.arn(ACCOUNT)
    result = plan(DESIRED, CURRENT_WITH_EXTRAS, prune=True)
    assert result.changes == (
        c.DeleteInlinePolicy("legacy-role", "x"),
        c.DetachPolicy("legacy-role", legacy_arn),
        c.DeleteRole("legacy-role"),
        c.DeletePolicyVersion(legacy_arn, "v1"),
        c.DeletePolicy(legacy_arn),
        c.DeleteProvider("arn:aws:iam::123456789012:oidc-provider/old.example.com"),
    )
    assert all(change.effect is Effect.DELETE for change in result.changes)
    assert result.changes[2].step is Step.PRUNE_ROLES


def test_prune_keeps_an_undeclared_policy_a_declared_role_still_uses() -> None:
    keeper = dataclasses.replace(ROLE, managed_policies=(POLICY_ARN, EXTRA_POLICY.arn(ACCOUNT)))
    desired = dataclasses.replace(DESIRED, roles=(keeper,))
    current = dataclasses.replace(CURRENT_WITH_EXTRAS, roles=(keeper, EXTRA_ROLE))
    result = plan(desired, current, prune=True)
    assert not any(isinstance(change, c.DeletePolicy) for change in result.changes)


# --- property: executing the plan on a model of IAM reaches the desired state -------------------


def simulate(state: State, changes: tuple[c.Change, ...]) -> State:
    """A minimal model of IAM: apply each change to a state."""
    providers = {p.arn(ACCOUNT): p for p in state.providers}
    policies = {p.name: p for p in state.policies}
    roles = {r.name.lower(): r for r in state.roles}
    for change in changes:
        match change:
            case c.CreateProvider(provider):
                providers[provider.arn(ACCOUNT)] = provider
            case c.DeleteProvider(arn):
                del providers[arn]
            case c.CreatePolicy(policy):
                policies[policy.name] = policy
            case c.CreatePolicyVersion(arn, document, _):
                name = arn.rsplit("/", 1)[1]
                policies[name] = dataclasses.replace(policies[name], document=document)
            case c.DeletePolicy(arn):
                del policies[arn.rsplit("/", 1)[1]]
            case c.CreateRole(role):
                roles[role.name.lower()] = dataclasses.replace(
                    role, inline_policies=(), managed_policies=()
                )
            case c.DeleteRole(name):
                del roles[name.lower()]
            case _:
                roles = _simulate_role_part(roles, change)
    return State(
        ACCOUNT, tuple(providers.values()), tuple(policies.values()), tuple(roles.values())
    )


def _simulate_role_part(roles: dict[str, Role], change: c.Change) -> dict[str, Role]:
    match change:
        case c.PutInlinePolicy(name, policy_name, document, _):
            role = roles[name.lower()]
            kept = [p for p in role.inline_policies if p.name != policy_name]
            inline = (*kept, InlinePolicy(policy_name, document))
            roles[name.lower()] = dataclasses.replace(role, inline_policies=inline)
        case c.DeleteInlinePolicy(name, policy_name):
            role = roles[name.lower()]
            kept_inline = tuple(p for p in role.inline_policies if p.name != policy_name)
            roles[name.lower()] = dataclasses.replace(role, inline_policies=kept_inline)
        case c.AttachPolicy(name, arn):
            role = roles[name.lower()]
            attached = (*role.managed_policies, arn)
            roles[name.lower()] = dataclasses.replace(role, managed_policies=attached)
        case c.DetachPolicy(name, arn):
            role = roles[name.lower()]
            remaining = tuple(a for a in role.managed_policies if a != arn)
            roles[name.lower()] = dataclasses.replace(role, managed_policies=remaining)
        case c.UpdateTrustPolicy(name, document):
            role = roles[name.lower()]
            roles[name.lower()] = dataclasses.replace(role, trust_policy=document)
    return roles


def normalise(state: State) -> tuple[object, ...]:
    """Compare what the simulation models, ignoring order."""
    return (
        sorted((p.url, p.client_ids) for p in state.providers),
        sorted((p.name, p.document.canonical) for p in state.policies),
        sorted(
            (
                r.name,
                r.trust_policy.canonical,
                sorted((p.name, p.document.canonical) for p in r.inline_policies),
                sorted(r.managed_policies),
            )
            for r in state.roles
        ),
    )


names = st.sampled_from(["a", "b", "c", "d"])
documents = st.sampled_from([allow(), allow("s3:*"), allow("dynamodb:GetItem")])


@st.composite
def states(draw: st.DrawFn) -> State:
    providers = tuple(Provider(f"https://{name}.example") for name in draw(st.sets(names)))
    policies = tuple(
        ManagedPolicy(name, draw(documents), version_ids=("v1",), default_version_id="v1")
        for name in draw(st.sets(names))
    )
    arns = [policy.arn(ACCOUNT) for policy in policies]
    roles = tuple(
        Role(
            name,
            draw(st.sampled_from([trust(), trust(audience="other")])),
            inline_policies=tuple(
                InlinePolicy(p, draw(documents)) for p in draw(st.sets(names, max_size=2))
            ),
            managed_policies=tuple(draw(st.sets(st.sampled_from(arns)))) if arns else (),
        )
        for name in draw(st.sets(names))
    )
    return State(ACCOUNT, providers, policies, roles)


@settings(max_examples=150, deadline=None)
@given(states(), states())
def test_executing_a_pruning_plan_reaches_the_desired_state(desired: State, current: State) -> None:
    result = plan(desired, current, prune=True)
    reached = simulate(current, result.changes)
    assert normalise(reached) == normalise(desired)
    assert plan(desired, reached, prune=True).empty


@settings(max_examples=100, deadline=None)
@given(states(), states())
def test_without_prune_nothing_is_deleted(desired: State, current: State) -> None:
    result = plan(desired, current)
    for change in result.changes:
        assert change.step < Step.PRUNE_ROLES
        assert not isinstance(change, c.DeleteRole | c.DeletePolicy | c.DeleteProvider)


def test_policies_match_case_insensitively_and_are_never_pruned_for_case() -> None:
    current = State(ACCOUNT, policies=(ManagedPolicy("Mgd", allow()),))
    desired = State(ACCOUNT, policies=(ManagedPolicy("mgd", allow()),))
    assert desired.policy("MGD") == desired.policies[0]
    assert plan(desired, current, prune=True).empty
