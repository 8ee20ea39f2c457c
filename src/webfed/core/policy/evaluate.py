"""Policy evaluation: explicit deny first, then the AWS order, with a reason for every outcome.

IAM User Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic", and
"Session policies":

1. an explicit Deny in any applicable policy (guardrail, resource, identity, boundary, session)
   decides;
2. guardrails (SCP-like), when given, must allow;
3. a resource policy (a role's trust policy included) may allow on its own, in the same account:
   a grant naming the *session* is not limited by identity, boundary or session policies; a grant
   naming the *role* (or everyone) skips the identity policies but is still limited by the boundary
   and the session policy; a grant naming the *account* only delegates to identity policies. A
   trust policy must itself allow the principal. Across accounts both sides must allow;
4. identity policies must allow (the account's root principal is allowed by default);
5. a permissions boundary, when given, must allow;
6. session policies, when given (``session`` not ``None``), must allow.
"""

from __future__ import annotations

from collections.abc import Sequence

from webfed.core.policy.conditions import all_hold
from webfed.core.policy.decision import Decision, DecisionKind, StatementRef
from webfed.core.policy.explain import explain_no_allow
from webfed.core.policy.model import Effect, Policy, PolicyKind, Statement
from webfed.core.policy.principals import (
    PrincipalMatch,
    RootPrincipal,
    principal_account,
)
from webfed.core.policy.request import AuthorizationRequest

__all__ = ["evaluate"]

_DENY = Effect.DENY
_ALLOW = Effect.ALLOW
Found = tuple[Policy, Statement]


def evaluate(
    request: AuthorizationRequest,
    *,
    identity: Sequence[Policy] = (),
    resource: Policy | None = None,
    boundary: Policy | None = None,
    session: Sequence[Policy] | None = None,
    guardrails: Sequence[Policy] | None = None,
    resource_account: str | None = None,
) -> Decision:
    """Decide ``request`` against the policies that apply to it (see the module docstring)."""
    resources = (resource,) if resource is not None else ()
    boundaries = (boundary,) if boundary is not None else ()
    for group in (guardrails or (), resources, identity, boundaries, session or ()):
        for policy in group:
            if policy.has_deny:
                denied = _find((policy,), request, _DENY)
                if denied is not None:
                    return _explicit_deny(denied)
    if resource is None and guardrails is None:
        return _without_resource_policy(request, identity, boundary, session, resource_account)
    if guardrails is not None and _find(guardrails, request, _ALLOW) is None:
        return _implicit_deny(request, guardrails, "no guardrail policy allows it")
    granted = _find(resources, request, _ALLOW)
    return _after_resource(
        request, granted, identity, resource, boundary, session, resource_account
    )


def _without_resource_policy(
    request: AuthorizationRequest,
    identity: Sequence[Policy],
    boundary: Policy | None,
    session: Sequence[Policy] | None,
    resource_account: str | None,
) -> Decision:
    """The common case (no resource policy, no guardrails), kept short for speed."""
    account = principal_account(request.principal)
    if account is None:
        return _no_access(request)
    owner = resource_account or _owner_of(request)
    if owner is not None and owner != account:
        return _implicit_deny(request, (), _cross_account_reason(owner))
    return _identity_path(request, [], identity, boundary, session)


def _after_resource(
    request: AuthorizationRequest,
    granted: Found | None,
    identity: Sequence[Policy],
    resource: Policy | None,
    boundary: Policy | None,
    session: Sequence[Policy] | None,
    resource_account: str | None,
) -> Decision:
    """Steps 3 onwards when a resource (or trust) policy is present."""
    account = principal_account(request.principal)
    if (
        granted is None
        and resource is not None
        and (resource.kind is PolicyKind.TRUST or account is None)
    ):
        lead = f"the {resource.kind.value} policy does not allow it"
        return _implicit_deny(request, (resource,), lead)
    if account is None:
        return _allow([_ref(granted)]) if granted is not None else _no_access(request)
    owner = resource_account or _owner_of(request)
    same_account = owner is None or owner == account
    if granted is None:
        if not same_account:
            return _implicit_deny(request, resources_of(resource), _cross_account_reason(owner))
        return _identity_path(request, [], identity, boundary, session)
    how = _named_as(granted, request)
    if same_account and (
        how is PrincipalMatch.SESSION or isinstance(request.principal, RootPrincipal)
    ):
        return _allow([_ref(granted)])
    if same_account and how in (PrincipalMatch.ROLE, PrincipalMatch.EVERYONE):
        return _limits(request, [_ref(granted)], boundary, session)
    return _identity_path(request, [_ref(granted)], identity, boundary, session)


def _named_as(granted: Found, request: AuthorizationRequest) -> PrincipalMatch | None:
    matcher = granted[1].principal
    return None if matcher is None else matcher.match(request.principal)


def _identity_path(
    request: AuthorizationRequest,
    deciding: list[StatementRef],
    identity: Sequence[Policy],
    boundary: Policy | None,
    session: Sequence[Policy] | None,
) -> Decision:
    """Identity policies must allow (root: by default), then the boundary and session limits."""
    if isinstance(request.principal, RootPrincipal):
        return _allow(deciding, "the account's root principal is allowed by default")
    allowed = _find(identity, request, _ALLOW)
    if allowed is None:
        return _implicit_deny(request, identity, None)
    deciding.insert(0, allowed[0].refs[allowed[1].index])
    if boundary is None and session is None:
        return _allow(deciding)
    return _limits(request, deciding, boundary, session)


def _limits(
    request: AuthorizationRequest,
    deciding: list[StatementRef],
    boundary: Policy | None,
    session: Sequence[Policy] | None,
) -> Decision:
    """A permissions boundary and session policies, when present, must allow too."""
    if boundary is not None:
        bounded = _find((boundary,), request, _ALLOW)
        if bounded is None:
            lead = "the permissions boundary does not allow it"
            return _implicit_deny(request, (boundary,), lead)
        deciding.append(bounded[0].refs[bounded[1].index])
    if session is not None:
        scoped = _find(session, request, _ALLOW)
        if scoped is None:
            return _implicit_deny(request, session, "the session policy does not allow it")
        deciding.append(scoped[0].refs[scoped[1].index])
    return _allow(deciding)


def _find(
    policies: Sequence[Policy], request: AuthorizationRequest, effect: Effect
) -> Found | None:
    """The first statement of ``effect`` in ``policies`` that applies to the request.

    The hot path: the action index narrows each policy to its covering statements, and the
    checks run cheapest first (principal, resource, then conditions).
    """
    action = request.action_lower
    context = request.context
    which = 0 if effect is _ALLOW else 1
    for policy in policies:
        covering = policy.action_index.get(action) or policy.index_action(action)
        for statement in covering[which]:
            matcher = statement.principal
            if matcher is not None and (
                (matcher.match(request.principal) is None) != statement.not_principal
            ):
                continue
            if statement.resources is not None and not statement.resource_applies(request):
                continue
            if statement.conditions and not all_hold(statement.conditions, context):
                continue
            return policy, statement
    return None


def resources_of(resource: Policy | None) -> tuple[Policy, ...]:
    return () if resource is None else (resource,)


def _owner_of(request: AuthorizationRequest) -> str | None:
    head = request.resource_head
    return head[4] or None if head is not None else None


def _cross_account_reason(owner: str | None) -> str:
    return f"the resource belongs to account {owner} and no resource policy there allows it"


def _ref(found: Found) -> StatementRef:
    return found[0].refs[found[1].index]


def _allow(deciding: list[StatementRef], reason: str = "allowed") -> Decision:
    return Decision(True, DecisionKind.ALLOW, tuple(deciding), reason)


def _explicit_deny(found: Found) -> Decision:
    reason = f"explicitly denied by {found[0].kind.value} {_ref(found)}"
    return Decision(False, DecisionKind.EXPLICIT_DENY, (_ref(found),), reason)


def _no_access(request: AuthorizationRequest) -> Decision:
    reason = f"no policy grants `{request.principal.arn}` access"
    return Decision(False, DecisionKind.IMPLICIT_DENY, (), reason)


def _implicit_deny(
    request: AuthorizationRequest, policies: Sequence[Policy], lead: str | None
) -> Decision:
    closest, detail = explain_no_allow(policies, request)
    reason = detail if lead is None else (lead if closest is None else f"{lead}: {detail}")
    statements = () if closest is None else (_ref(closest),)
    return Decision(False, DecisionKind.IMPLICIT_DENY, statements, reason)
