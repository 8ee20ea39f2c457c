"""The public names others code against exist and are exported (guarded like httpx does)."""

from __future__ import annotations

import inspect

import webfed.core.policy as policy_package
from webfed.core.policy import PolicyKind, evaluate, parse_policy

EXPECTED = {
    "PolicyKind",
    "parse_policy",
    "policy_size",
    "SIZE_LIMITS",
    "AuthorizationRequest",
    "evaluate",
    "Decision",
    "DecisionKind",
    "StatementRef",
    "RoleSessionPrincipal",
    "RootPrincipal",
    "WebIdentityPrincipal",
    "ServicePrincipal",
    "build_context",
    "Policy",
}


def test_all_names_exist_and_expected_are_exported() -> None:
    for name in policy_package.__all__:
        assert hasattr(policy_package, name), name
    assert set(policy_package.__all__) >= EXPECTED


def test_policy_kinds() -> None:
    assert [kind.name for kind in PolicyKind] == [
        "IDENTITY",
        "TRUST",
        "RESOURCE",
        "SESSION",
        "BOUNDARY",
        "GUARDRAIL",
    ]


def test_evaluate_signature_is_keyword_only() -> None:
    parameters = inspect.signature(evaluate).parameters
    assert list(parameters) == [
        "request",
        "identity",
        "resource",
        "boundary",
        "session",
        "guardrails",
        "resource_account",
    ]
    assert all(p.kind is p.KEYWORD_ONLY for name, p in parameters.items() if name != "request")


def test_large_documents_are_parsed_without_caching() -> None:
    statement = '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}'
    text = '{"Statement": [' + ", ".join([statement] * 250) + "]}"
    assert len(text) > 16_384
    first = parse_policy(text, PolicyKind.IDENTITY, name="big")
    second = parse_policy(text, PolicyKind.IDENTITY, name="big")
    assert first is not second and len(first.statements) == 250
    small = '{"Statement": ' + statement + "}"
    assert parse_policy(small, PolicyKind.IDENTITY, name="s") is parse_policy(
        small, PolicyKind.IDENTITY, name="s"
    )
