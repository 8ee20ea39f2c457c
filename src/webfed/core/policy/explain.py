"""Plain-words reasons for an implicit deny: the closest statement and why it did not apply.

Only called once a decision is a denial, so it may re-walk the statements; the fast path in
:mod:`webfed.core.policy.evaluate` never builds text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from webfed.core.policy.conditions import first_failure
from webfed.core.policy.model import Policy, Statement

if TYPE_CHECKING:
    from webfed.core.policy.request import AuthorizationRequest

__all__ = ["explain_no_allow"]

Found = tuple[Policy, Statement]


def explain_no_allow(
    policies: Sequence[Policy], request: AuthorizationRequest
) -> tuple[Found | None, str]:
    """The closest Allow statement that did not apply and why; else a general sentence."""
    for policy in policies:
        for statement in policy.allows_for(request.action_lower):
            if not _principal_ok(statement, request):
                continue
            why = _why_not(statement, request)
            if why is not None:
                return (policy, statement), why
    return None, _nothing_allows(policies, request)


def _principal_ok(statement: Statement, request: AuthorizationRequest) -> bool:
    matcher = statement.principal
    if matcher is None:
        return True
    return (matcher.match(request.principal) is None) == statement.not_principal


def _why_not(statement: Statement, request: AuthorizationRequest) -> str | None:
    context = request.context
    resources_miss = statement.resources is not None and not statement.resource_applies(request)
    if resources_miss:
        return _unresolved(statement, request)
    failed = first_failure(statement.conditions, context)
    return None if failed is None else failed.explain(context)


def _unresolved(statement: Statement, request: AuthorizationRequest) -> str | None:
    assert statement.resources is not None
    for pattern in statement.resources:
        if pattern.matches(request) is None:
            return (
                f"resource `{pattern.source}` uses a policy variable the request has no "
                "value for, so it matches nothing"
            )
    return None


def _nothing_allows(policies: Sequence[Policy], request: AuthorizationRequest) -> str:
    if any(policy.statements and policy.statements[0].principal is not None for policy in policies):
        return (
            f"no statement allows `{request.principal.arn}` to perform `{request.action}`"
            f" on `{request.resource}`"
        )
    return f"no statement allows `{request.action}` on `{request.resource}`"
