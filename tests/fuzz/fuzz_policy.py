"""Fuzz the IAM policy language: parse, compile, lint and evaluate, for every policy kind.

The input picks a :class:`~webfed.core.policy.PolicyKind`, a principal, an action, a resource
and up to four request context values, and ends with the policy document's text. The document
is parsed with :func:`~webfed.core.policy.parse_policy` (whose only refusal is
``MalformedPolicyDocument``) and checked with :func:`~webfed.core.policy.find_problems`, which
must agree with it; a policy that parses is linted and then evaluated against the request in
the place its kind takes in IAM's evaluation logic, so the compiled matchers (wildcards,
variables, every condition operator) meet fuzzed context values.

Run: ``.venv/bin/python tests/fuzz/fuzz_policy.py -runs=1000000 tests/fuzz/corpus/policy``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz._common import FuzzFailure, Input, expect_client_error, instrumented, main

with instrumented(__name__ == "__main__"):
    from webfed.core.policy import (
        AuthorizationRequest,
        Decision,
        Policy,
        PolicyKind,
        Principal,
        RoleSessionPrincipal,
        RootPrincipal,
        WebIdentityPrincipal,
        evaluate,
        find_problems,
        parse_policy,
        policy_size,
    )
    from webfed.core.policy.lint import lint_policy, statement_lines

__all__ = ["CONTEXT_KEYS", "KINDS", "PRINCIPALS", "check"]

ACCOUNT = "123456789012"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
KINDS = tuple(PolicyKind)
PRINCIPALS: tuple[Principal, ...] = (
    WebIdentityPrincipal("accounts.google.com"),
    WebIdentityPrincipal(
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/issuer.example.com", ("issuer.example.com",)
    ),
    RoleSessionPrincipal(
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:role/app",
        "AROAEXAMPLE",
        "session",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session",
    ),
    RootPrincipal(ACCOUNT),
)
#: Keys the condition operators of every family read; the fuzzer may also name its own.
CONTEXT_KEYS = (
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:PrincipalTag/team",
    "aws:RequestTag/project",
    "aws:TagKeys",
    "aws:username",
    "s3:prefix",
    "s3:max-keys",
    "accounts.google.com:aud",
    "accounts.google.com:sub",
    "cognito-identity.amazonaws.com:amr",
    "issuer.example.com:aud",
    "sts:RoleSessionName",
)


def _request(data: Input) -> AuthorizationRequest:
    principal = data.pick(PRINCIPALS)
    action = data.text(128)
    resource = data.text(512)
    context: dict[str, str | list[str]] = {}
    for _ in range(data.int_in(0, 4)):
        key = data.pick(CONTEXT_KEYS) if data.boolean() else data.text(128)
        values = [data.text(256) for _ in range(data.int_in(1, 3))]
        context[key] = values[0] if len(values) == 1 else values
    return AuthorizationRequest.build(principal, action, resource, context, now=NOW)


def _evaluate(policy: Policy, request: AuthorizationRequest) -> Decision:
    kind = policy.kind
    if kind in (PolicyKind.TRUST, PolicyKind.RESOURCE):
        return evaluate(request, resource=policy, resource_account=ACCOUNT)
    if kind is PolicyKind.SESSION:
        return evaluate(request, identity=[policy], session=[policy])
    if kind is PolicyKind.BOUNDARY:
        return evaluate(request, identity=[policy], boundary=policy)
    if kind is PolicyKind.GUARDRAIL:
        return evaluate(request, identity=[policy], guardrails=[policy])
    return evaluate(request, identity=[policy])


def check(data: bytes) -> None:
    """Parse (and if valid, lint and evaluate) a fuzzed policy; raise only on a crash."""
    reader = Input(data)
    kind = reader.pick(KINDS)
    request = _request(reader)
    document = reader.rest().decode("utf-8", "replace")
    policy_size(document)
    parsed = expect_client_error(lambda: parse_policy(document, kind, name="fuzz"))
    problems = find_problems(document, kind)
    if (parsed is None) != bool(problems):
        raise FuzzFailure(f"parse_policy and find_problems disagree: {problems!r}")
    if parsed is None:
        return
    assert isinstance(parsed, Policy)
    lint_policy(parsed)
    statement_lines(document)
    decision = _evaluate(parsed, request)
    # Only the account's root is allowed without an Allow (IAM: root has full access unless a
    # guardrail or an explicit Deny stops it).
    by_default = isinstance(request.principal, RootPrincipal) and kind is not PolicyKind.GUARDRAIL
    if decision.allowed and not parsed.has_allow and not by_default:
        raise FuzzFailure("a policy without an Allow statement allowed a request")


if __name__ == "__main__":
    main(check)
