"""The IAM policy engine: parse once, compile once, evaluate fast, explain every decision.

A pure library: no clock, no I/O. Callers pass the request (principal, action, resource,
context keys, and ``now`` when time-based keys are wanted) and the policies that apply.

    parse_policy(document, kind, name=...)  -> Policy      (raises MalformedPolicyDocument)
    policy_size(document)                   -> int         (IAM's count: whitespace excluded)
    evaluate(request, identity=..., ...)    -> Decision    (allowed, kind, statements, reason)
"""

from __future__ import annotations

from webfed.core.policy.context import build_context
from webfed.core.policy.decision import Decision, DecisionKind, StatementRef
from webfed.core.policy.document import Problem
from webfed.core.policy.evaluate import evaluate
from webfed.core.policy.model import (
    DOCUMENT_MAX_CHARACTERS,
    INLINE_GROUP_AGGREGATE_LIMIT,
    INLINE_ROLE_AGGREGATE_LIMIT,
    INLINE_USER_AGGREGATE_LIMIT,
    MANAGED_POLICY_LIMIT,
    SESSION_POLICY_LIMIT,
    SIZE_LIMITS,
    TRUST_POLICY_LIMIT_DEFAULT,
    TRUST_POLICY_LIMIT_MAXIMUM,
    Effect,
    Policy,
    PolicyKind,
    Statement,
    policy_size,
)
from webfed.core.policy.parse import VERSIONS, find_problems, parse_policy
from webfed.core.policy.principals import (
    WELL_KNOWN_PROVIDERS,
    Principal,
    RoleSessionPrincipal,
    RootPrincipal,
    ServicePrincipal,
    WebIdentityPrincipal,
)
from webfed.core.policy.request import AuthorizationRequest, principal_context

__all__ = [
    "DOCUMENT_MAX_CHARACTERS",
    "INLINE_GROUP_AGGREGATE_LIMIT",
    "INLINE_ROLE_AGGREGATE_LIMIT",
    "INLINE_USER_AGGREGATE_LIMIT",
    "MANAGED_POLICY_LIMIT",
    "SESSION_POLICY_LIMIT",
    "SIZE_LIMITS",
    "TRUST_POLICY_LIMIT_DEFAULT",
    "TRUST_POLICY_LIMIT_MAXIMUM",
    "VERSIONS",
    "WELL_KNOWN_PROVIDERS",
    "AuthorizationRequest",
    "Decision",
    "DecisionKind",
    "Effect",
    "Policy",
    "PolicyKind",
    "Principal",
    "Problem",
    "RoleSessionPrincipal",
    "RootPrincipal",
    "ServicePrincipal",
    "Statement",
    "StatementRef",
    "WebIdentityPrincipal",
    "build_context",
    "evaluate",
    "find_problems",
    "parse_policy",
    "policy_size",
    "principal_context",
]
