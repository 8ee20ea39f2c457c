"""The IAM policy engine: parse once, compile once, evaluate fast, explain every decision.

A pure library: no clock, no I/O. Callers pass the request (principal, action, resource,
context keys, and ``now`` when time-based keys are wanted) and the policies that apply.

    parse_policy(document, kind, name=...)  -> Policy      (raises MalformedPolicyDocument)
    policy_size(document)                   -> int         (IAM's count: whitespace excluded)
    evaluate(request, identity=..., ...)    -> Decision    (allowed, kind, statements, reason)
"""

from __future__ import annotations

from webfed.core.policy.document import Problem
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
    "Effect",
    "Policy",
    "PolicyKind",
    "Principal",
    "Problem",
    "RoleSessionPrincipal",
    "RootPrincipal",
    "ServicePrincipal",
    "Statement",
    "WebIdentityPrincipal",
    "find_problems",
    "parse_policy",
    "policy_size",
]
