"""Export writes the format apply reads: exporting a state and loading it back gives the state."""

from __future__ import annotations

import string

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.declarative.helpers import ACCOUNT, allow, trust
from webfed.core.entities import fold_case
from webfed.declarative.apply import load_config
from webfed.declarative.export import export_text, state_to_document
from webfed.declarative.model import (
    InlinePolicy,
    ManagedPolicy,
    PolicyDocument,
    Provider,
    Role,
    State,
    Tags,
)
from webfed.declarative.plan import plan
from webfed.declarative.references import Limits, resolve

GOOGLE_TRUST = PolicyDocument.from_value(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "accounts.google.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"accounts.google.com:aud": "12345.apps"}},
            }
        ],
    }
)


def round_trip(state: State) -> State:
    config = load_config(export_text(state))
    loaded, problems = resolve(config, State(ACCOUNT), Limits(ACCOUNT))
    assert problems == [], [str(p) for p in problems]
    assert loaded is not None
    return loaded


def test_defaults_are_left_out() -> None:
    state = State(ACCOUNT, roles=(Role("r", GOOGLE_TRUST),))
    (role,) = state_to_document(state)["roles"]
    assert set(role) == {"name", "trust_policy"}


def test_foreign_policy_arns_are_kept_and_own_policies_named() -> None:
    own = ManagedPolicy("mine", allow(), path="/x/")
    foreign = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    role = Role("r", GOOGLE_TRUST, managed_policies=(own.arn(ACCOUNT), foreign))
    document = state_to_document(State(ACCOUNT, policies=(own,), roles=(role,)))
    assert document["roles"][0]["managed_policies"] == ["mine", foreign]


def test_strings_that_yaml_would_retype_are_quoted() -> None:
    role = Role("r", GOOGLE_TRUST, description="2012-10-17", tags=Tags.of({"n": "0123"}))
    text = export_text(State(ACCOUNT, roles=(role,)))
    assert yaml.safe_load(text)["roles"][0]["description"] == "2012-10-17"
    assert round_trip(State(ACCOUNT, roles=(role,))) == State(ACCOUNT, roles=(role,))


def test_provider_and_policies_round_trip() -> None:
    provider = Provider(
        "https://accounts.example.com",
        client_ids=("a", "b"),
        thumbprints=("0" * 40,),
        tags=Tags.of({"Team": "x", "team": "y"}),
    )
    policy = ManagedPolicy("scores", allow(), path="/game/", description="Scores: read")
    role = Role(
        "player",
        trust(),
        path="/players/",
        max_session_duration=43200,
        inline_policies=(InlinePolicy("b", allow("s3:*")), InlinePolicy("a", allow())),
        managed_policies=(policy.arn(ACCOUNT),),
        permissions_boundary=policy.arn(ACCOUNT),
        tags=Tags.of({"yes": "no"}),
    )
    state = State(ACCOUNT, (provider,), (policy,), (role,))
    assert round_trip(state) == state


name_chars = string.ascii_letters + string.digits + "_+=,.@-"
names = st.text(name_chars, min_size=1, max_size=12)
tag_text = st.text(string.ascii_letters + string.digits + " _.:/=+-@", max_size=10)
descriptions = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
identity_documents = st.sampled_from(
    [allow(), allow("s3:*"), allow("dynamodb:Query", "arn:aws:dynamodb:*:*:table/${aws:userid}")]
)


@st.composite
def states(draw: st.DrawFn) -> State:
    policy_names = draw(st.lists(names, unique_by=fold_case, max_size=3))
    policies = tuple(
        ManagedPolicy(
            name,
            draw(identity_documents),
            path=draw(st.sampled_from(["/", "/a/", "/a/b.c/"])),
            description=draw(descriptions),
            tags=Tags.of(draw(st.dictionaries(tag_text.filter(bool), tag_text, max_size=3))),
        )
        for name in policy_names
    )
    arns = [policy.arn(ACCOUNT) for policy in policies]
    role_names = draw(st.lists(names, unique_by=fold_case, max_size=3))
    roles = tuple(
        Role(
            name,
            GOOGLE_TRUST,
            description=draw(descriptions),
            max_session_duration=draw(st.integers(3600, 43200)),
            inline_policies=tuple(
                InlinePolicy(inline, draw(identity_documents))
                for inline in draw(st.lists(names, unique=True, max_size=2))
            ),
            managed_policies=tuple(draw(st.lists(st.sampled_from(arns), unique=True)))
            if arns
            else (),
            tags=Tags.of(draw(st.dictionaries(tag_text.filter(bool), tag_text, max_size=3))),
        )
        for name in role_names
    )
    return State(ACCOUNT, policies=policies, roles=roles)


@settings(max_examples=60, deadline=None)
@given(states())
def test_export_then_load_is_the_same_state(state: State) -> None:
    state = _fold_role_tags(state)
    loaded = round_trip(state)
    assert loaded == state
    assert plan(loaded, state, prune=True).empty


def _fold_role_tags(state: State) -> State:
    """Role tag keys are unique ignoring case; keep the first of each."""
    roles = []
    for role in state.roles:
        seen: dict[str, tuple[str, str]] = {}
        for key, value in role.tags.items:
            seen.setdefault(fold_case(key), (key, value))
        roles.append(
            Role(
                role.name,
                role.trust_policy,
                description=role.description,
                max_session_duration=role.max_session_duration,
                inline_policies=role.inline_policies,
                managed_policies=role.managed_policies,
                tags=Tags(tuple(sorted(seen.values()))),
            )
        )
    policies = []
    for policy in state.policies:
        seen = {}
        for key, value in policy.tags.items:
            seen.setdefault(fold_case(key), (key, value))
        policies.append(
            ManagedPolicy(
                policy.name,
                policy.document,
                path=policy.path,
                description=policy.description,
                tags=Tags(tuple(sorted(seen.values()))),
            )
        )
    return State(state.account_id, policies=tuple(policies), roles=tuple(roles))


def test_a_document_that_is_not_json_is_exported_as_its_text() -> None:
    """One unreadable document must not stop the export of the whole account."""
    from webfed.declarative.read_state import decode_document

    odd = decode_document('{"Version": "2012-10-17", "N": NaN}')
    assert not odd.parsed and odd != allow()
    policy = ManagedPolicy("odd", odd)
    exported = yaml.safe_load(export_text(State(ACCOUNT, policies=(policy,))))
    assert exported["policies"][0]["document"] == '{"Version": "2012-10-17", "N": NaN}'


def test_numbers_and_escapes_round_trip_exactly() -> None:
    document = PolicyDocument.from_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",'
        ' "Resource": "arn:aws:s3:::b/\\u65e5\\u672c", "Condition": {"NumericLessThan":'
        ' {"s3:max-keys": 1.50}, "NumericEquals": {"s3:x": ' + "7" * 5001 + "}}}]}"
    )
    state = State(ACCOUNT, policies=(ManagedPolicy("p", document),))
    loaded = round_trip(state)
    assert loaded == state
    assert loaded.policies[0].document.text.isascii()
    assert '"s3:max-keys":1.50' in loaded.policies[0].document.text
