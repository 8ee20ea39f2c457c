"""Whole-file checks: policy documents, sizes, references, duplicates, immutable paths, settings."""

from __future__ import annotations

import json

import pytest

from tests.unit.declarative.helpers import ACCOUNT, FULL, allow, load, trust
from webfed.declarative.model import ManagedPolicy, Provider, Role, State
from webfed.declarative.references import (
    Limits,
    federated_principals,
    reference_warnings,
    resolve,
)
from webfed.declarative.schema import Config
from webfed.declarative.settings_section import read_settings_defaults, settings_problems
from webfed.declarative.source import Problem
from webfed.errors import InvalidConfiguration

LIMITS = Limits(ACCOUNT)
EMPTY = State(ACCOUNT)
TRUST_JSON = trust().text
ALLOW_JSON = allow().text


def problems_of(text: str, current: State = EMPTY, limits: Limits = LIMITS) -> list[Problem]:
    config = load(text)
    state, problems = resolve(config, current, limits)
    assert (state is None) == bool(problems)
    return problems


def one(problems: list[Problem], fragment: str) -> Problem:
    matching = [p for p in problems if fragment in p.message]
    assert len(matching) == 1, [str(p) for p in problems]
    return matching[0]


def role_file(extra: str = "", trust_json: str = TRUST_JSON, providers: bool = True) -> str:
    provider = "providers:\n  - url: https://accounts.example.com\n" if providers else ""
    return (
        f"version: 1\n{provider}roles:\n  - name: player\n    trust_policy: '{trust_json}'\n{extra}"
    )


def test_full_example_resolves_names_to_arns() -> None:
    state, problems = resolve(load(FULL), EMPTY, LIMITS)
    assert problems == []
    assert state is not None
    (role,) = state.roles
    assert role.managed_policies == (f"arn:aws:iam::{ACCOUNT}:policy/game/scores-read",)
    assert role.permissions_boundary == f"arn:aws:iam::{ACCOUNT}:policy/boundary"


def test_references_to_existing_policies_and_providers_resolve() -> None:
    existing = ManagedPolicy("audit", allow(), path="/ops/")
    current = State(
        ACCOUNT, providers=(Provider("https://accounts.example.com"),), policies=(existing,)
    )
    arn = existing.arn(ACCOUNT)
    text = role_file(f"    managed_policies: [audit, '{arn}']\n", providers=False)
    config = load(text.replace("[audit, ", "[").replace(f"'{arn}']", f"'{arn}']"))
    state, problems = resolve(config, current, LIMITS)
    assert problems == [] and state is not None
    assert state.roles[0].managed_policies == (arn,)


POLICY_ERRORS = [
    (
        role_file(trust_json=json.dumps({"Version": "2012-10-17", "Statement": []})),
        "malformed trust policy",
        6,
    ),
    (
        role_file(
            trust_json=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity"}],
                }
            )
        ),
        "malformed trust policy",
        6,
    ),
    (
        role_file(
            "    inline_policies:\n      p1:\n        Version: 2012-10-17\n"
            "        Statement:\n          - {Effect: Allow, Action: '*', Resource: '*',"
            " Principal: '*'}\n"
        ),
        "malformed identity policy",
        9,
    ),
    (
        "version: 1\npolicies:\n  - name: p\n    document: '"
        + json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]})
        + "'\n",
        "malformed identity policy",
        4,
    ),
    (
        "version: 1\npolicies:\n  - name: p\n    document: "
        '\'{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}\'\n',
        "malformed identity policy",
        4,
    ),
]


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    POLICY_ERRORS,
    ids=[
        "trust-no-statement",
        "trust-no-principal",
        "identity-with-principal",
        "identity-bad-effect",
        "json-string-duplicate-key",
    ],
)
def test_policy_documents_are_parsed_with_their_kind(text: str, fragment: str, line: int) -> None:
    problem = one(problems_of(text), fragment)
    assert problem.line == line


def test_a_policy_used_as_a_boundary_is_also_parsed_as_a_boundary() -> None:
    boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    text = role_file("    permissions_boundary: fence\n") + (
        f"policies:\n  - name: fence\n    document: '{json.dumps(boundary)}'\n"
    )
    problems = problems_of(text)
    assert any("malformed" in p.message for p in problems)


def test_trust_policy_size_follows_the_configured_quota() -> None:
    big = trust(audience="a" * 1900).text
    assert (
        problems_of(role_file(trust_json=big), limits=Limits(ACCOUNT, trust_policy_max_size=4096))
        == []
    )
    problem = one(problems_of(role_file(trust_json=big)), "the limit is 2048")
    assert problem.where == "roles[0].trust_policy"


def test_managed_policy_size_limit() -> None:
    document = allow(resource="arn:aws:s3:::" + "b" * 6200).text
    problems = problems_of(f"version: 1\npolicies:\n  - name: p\n    document: '{document}'\n")
    assert one(problems, "the limit is 6144").line == 4


def test_inline_policies_are_limited_together() -> None:
    document = allow(resource="arn:aws:s3:::" + "b" * 5100).text
    extra = f"    inline_policies:\n      a: '{document}'\n      b: '{document}'\n"
    one(problems_of(role_file(extra)), "the limit is 10240")


REFERENCE_ERRORS = [
    (role_file("    managed_policies: [nowhere]\n"), "no managed policy 'nowhere'", 7),
    (
        role_file(f"    managed_policies: ['arn:aws:iam::{ACCOUNT}:policy/ghost']\n"),
        "no managed policy 'arn:",
        7,
    ),
    (role_file("    permissions_boundary: ghost\n"), "no managed policy 'ghost'", 7),
    (
        role_file(trust_json=trust("arn:aws:iam::999999999999:oidc-provider/x.example").text),
        "is not in account",
        6,
    ),
    (
        role_file("    managed_policies: [" + ", ".join(f"p{n}" for n in range(11)) + "]\n")
        + "policies:\n"
        + "".join(f"  - name: p{n}\n    document: '{ALLOW_JSON}'\n" for n in range(11)),
        "IAM allows 10",
        7,
    ),
    (
        role_file("    managed_policies: [p, p]\n")
        + f"policies:\n  - name: p\n    document: '{ALLOW_JSON}'\n",
        "attached twice",
        7,
    ),
]


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    REFERENCE_ERRORS,
    ids=[
        "unknown-policy-name",
        "unknown-policy-arn",
        "unknown-boundary",
        "provider-other-account",
        "too-many-attached",
        "attached-twice",
    ],
)
def test_references_must_resolve(text: str, fragment: str, line: int) -> None:
    assert one(problems_of(text), fragment).line == line


def test_an_unknown_provider_in_a_trust_policy_is_a_warning() -> None:
    """IAM accepts a trust policy naming a provider that does not exist (and leaves roles alone
    when a provider is deleted), so apply warns instead of refusing the file."""
    config = load(role_file(providers=False))
    assert problems_of(role_file(providers=False)) == []
    (warning,) = reference_warnings(config, EMPTY, LIMITS)
    assert warning.line == 4 and warning.where == "roles[0].trust_policy"
    assert "no OpenID Connect provider" in warning.message
    assert reference_warnings(load(role_file()), EMPTY, LIMITS) == []
    existing = State(ACCOUNT, providers=(Provider("https://accounts.example.com"),))
    assert reference_warnings(config, existing, LIMITS) == []


def test_well_known_federated_principals_need_no_provider() -> None:
    google = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "accounts.google.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"accounts.google.com:aud": "app"}},
            }
        ],
    }
    assert problems_of(role_file(trust_json=json.dumps(google), providers=False)) == []


DUPLICATES = [
    (
        "version: 1\nproviders:\n  - url: https://a.example\n  - url: https://a.example\n",
        4,
    ),
    (
        "version: 1\nproviders:\n  - url: https://a.example\n  - url: http://a.example\n",
        4,
    ),
    (
        f"version: 1\npolicies:\n  - name: p\n    document: '{ALLOW_JSON}'\n"
        f"  - name: p\n    path: /other/\n    document: '{ALLOW_JSON}'\n",
        5,
    ),
    (
        role_file() + f"  - name: PLAYER\n    trust_policy: '{TRUST_JSON}'\n",
        7,
    ),
    (
        f"version: 1\npolicies:\n  - name: Mgd\n    document: '{ALLOW_JSON}'\n"
        f"  - name: mgd\n    document: '{ALLOW_JSON}'\n",
        5,
    ),
]


@pytest.mark.parametrize(
    ("text", "line"),
    DUPLICATES,
    ids=[
        "provider-url",
        "provider-url-other-scheme",
        "policy-name",
        "role-name-case",
        "policy-name-case",
    ],
)
def test_duplicates_are_reported_at_the_second_declaration(text: str, line: int) -> None:
    problems = problems_of(text, limits=Limits(ACCOUNT, allow_http_issuers=True))
    assert one(problems, "duplicate").line == line


@pytest.mark.parametrize(
    ("url", "allow_http", "fragment"),
    [
        ("http://a.example", False, "https://"),
        ("ftp://a.example", True, "https://"),
        ("https://", False, "host"),
        ("https://a.example/?x=1", False, "query"),
        ("https://a.example/#frag", False, "fragment"),
    ],
    ids=["http-refused", "ftp", "no-host", "query", "fragment"],
)
def test_provider_urls(url: str, allow_http: bool, fragment: str) -> None:
    text = f"version: 1\nproviders:\n  - url: '{url}'\n"
    problems = problems_of(text, limits=Limits(ACCOUNT, allow_http_issuers=allow_http))
    assert one(problems, fragment).line == 3


def test_http_issuer_accepted_when_allowed() -> None:
    text = "version: 1\nproviders:\n  - url: http://127.0.0.1:8080/realm\n"
    assert problems_of(text, limits=Limits(ACCOUNT, allow_http_issuers=True)) == []


def test_paths_of_existing_roles_and_policies_cannot_change() -> None:
    current = State(
        ACCOUNT,
        providers=(Provider("https://accounts.example.com"),),
        policies=(ManagedPolicy("p", allow(), path="/old/"),),
        roles=(Role("Player", trust(), path="/old/"),),
    )
    text = role_file(providers=False) + f"policies:\n  - name: p\n    document: '{ALLOW_JSON}'\n"
    problems = problems_of(text, current)
    assert one(problems, "a role's path cannot change").where == "roles[0].path"
    assert one(problems, "a policy's path cannot change").where == "policies[0].path"


def test_policy_names_match_iam_ignoring_case_and_keep_the_iam_spelling() -> None:
    """IAM holds ``Mgd``; a file naming ``mgd`` means that policy, which cannot be renamed."""
    existing = ManagedPolicy("Mgd", allow(), path="/ops/")
    current = State(
        ACCOUNT, providers=(Provider("https://accounts.example.com"),), policies=(existing,)
    )
    text = role_file("    managed_policies: [MGD]\n    permissions_boundary: mgd\n")
    text += f"policies:\n  - name: mgd\n    path: /ops/\n    document: '{ALLOW_JSON}'\n"
    config = load(text)
    state, problems = resolve(config, current, LIMITS)
    assert problems == [] and state is not None
    assert [policy.name for policy in state.policies] == ["Mgd"]
    assert state.roles[0].managed_policies == (existing.arn(ACCOUNT),)
    assert state.roles[0].permissions_boundary == existing.arn(ACCOUNT)
    (warning,) = reference_warnings(config, current, LIMITS)
    assert warning.where == "policies[0].name" and "named Mgd in IAM" in warning.message
    moved = text.replace("path: /ops/", "path: /elsewhere/")
    assert one(problems_of(moved, current), "a policy's path cannot change").line == 11


def test_federated_principals_reads_every_shape() -> None:
    document = {
        "Statement": [
            {"Principal": {"Federated": ["a", "b"]}},
            {"Principal": {"Federated": "c"}},
            {"Principal": "*"},
            "junk",
        ]
    }
    assert list(federated_principals(document)) == ["a", "b", "c"]
    assert list(federated_principals({"Statement": {"Principal": {"Federated": "d"}}})) == ["d"]
    assert list(federated_principals([1])) == []


SETTINGS_ERRORS = [
    ("version: 1\nsettings:\n  port: 70000\n", 3, "less than or equal"),
    ("version: 1\nsettings:\n  account_id: '12'\n", 3, "12 digits"),
    ("version: 1\nsettings:\n  colour: red\n", 3, "unknown setting"),
    ("version: 1\nsettings:\n  master_key: hunter2\n", 3, "WEBFED_MASTER_KEY"),
    ("version: 1\nsettings:\n  admin_secret_access_key: x\n", 3, "cannot be set in a file"),
    ("version: 1\nsettings:\n  config: other.yaml\n", 3, "cannot be set in a file"),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    SETTINGS_ERRORS,
    ids=["port-range", "account-id", "unknown", "master-key", "admin-secret", "config"],
)
def test_settings_section_problems(text: str, line: int, fragment: str) -> None:
    config = load(text)
    problem = one(settings_problems(config), fragment)
    assert problem.line == line
    assert "hunter2" not in str(problem)


def test_settings_are_checked_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBFED_PORT", "not-a-port")
    assert settings_problems(load("version: 1\nsettings:\n  port: 9000\n")) == []


def test_read_settings_defaults(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nsettings:\n  port: 9000\n  allow_http_issuers: true\n")
    assert read_settings_defaults(good) == {"port": 9000, "allow_http_issuers": True}
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsettings:\n  port: many\n")
    with pytest.raises(InvalidConfiguration) as caught:
        read_settings_defaults(bad)
    assert caught.value.problems[0].startswith(f"{bad}: line 3: settings.port:")


def test_config_line_lookup() -> None:
    config = load(FULL)
    assert isinstance(config, Config)
    assert config.line("roles[0].trust_policy") == 27
    assert config.line("nowhere") is None
