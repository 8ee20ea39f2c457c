"""``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy``: the policy engine through IAM's API.

IAM API reference: each action in ``ActionNames`` is evaluated against each resource in
``ResourceArns`` (``*`` when none is given) with the ``ContextEntries`` as condition keys, and
answered ``allowed``, ``explicitDeny`` or ``implicitDeny`` with the statements that decided.
For a role, its inline and attached policies are the identity policies and its permissions
boundary applies unless ``PermissionsBoundaryPolicyInputList`` replaces it; ``PolicyInputList``
adds identity policies. ``MissingContextValues`` lists condition keys the policies use that the
request did not provide. Results are paged with ``MaxItems``/``Marker``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from webfed.api.context import CallContext, Params, Result
from webfed.api.iam._inputs import max_items
from webfed.core.policy import (
    AuthorizationRequest,
    Decision,
    DecisionKind,
    Policy,
    PolicyKind,
    RoleSessionPrincipal,
    evaluate,
    parse_policy,
)
from webfed.errors import InvalidInput, NoSuchEntity

__all__ = ["simulate_custom_policy", "simulate_principal_policy"]

_DECISIONS = {
    DecisionKind.ALLOW: "allowed",
    DecisionKind.EXPLICIT_DENY: "explicitDeny",
    DecisionKind.IMPLICIT_DENY: "implicitDeny",
}
_SIMULATION_SESSION = "webfed-simulation"


def _context(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, str | list[str]]:
    """``ContextEntries``: list types are multivalued keys, the others single-valued."""
    context: dict[str, str | list[str]] = {}
    for entry in entries or ():
        values = [str(value) for value in entry.get("ContextKeyValues") or ()]
        kind = str(entry.get("ContextKeyType") or "string")
        name = str(entry.get("ContextKeyName") or "")
        if not name:
            continue
        if kind.endswith("List"):
            context[name] = values
        elif values:
            context[name] = values[0]
    return context


def _parse_all(documents: Iterable[str], kind: PolicyKind, label: str) -> list[Policy]:
    return [
        parse_policy(document, kind, name=f"{label}.{index + 1}")
        for index, document in enumerate(documents)
    ]


def _missing_keys(policies: Iterable[Policy], context: Mapping[str, object]) -> list[str]:
    provided = {key.lower() for key in context}
    missing: dict[str, str] = {}
    for policy in policies:
        for statement in policy.statements:
            for condition in statement.conditions:
                if condition.key_lower not in provided and not condition.key_lower.startswith(
                    ("aws:principal", "aws:userid", "aws:currenttime", "aws:epochtime")
                ):
                    missing.setdefault(condition.key_lower, condition.key)
    return sorted(missing.values())


def _statement_refs(decision: Decision) -> list[dict[str, object]]:
    return [
        {"SourcePolicyId": ref.policy, "SourcePolicyType": _policy_type(ref.policy)}
        for ref in decision.statements
    ]


def _policy_type(name: str) -> str:
    if name.startswith("arn:aws:iam::"):
        return "user-managed"
    if name.startswith("resource"):
        return "resource"
    if name.startswith("PolicyInputList"):
        return "none"
    return "role"


def _marker(offset: int) -> str:
    return base64.urlsafe_b64encode(f"simulation:{offset}".encode()).decode()


def _offset(marker: str | None) -> int:
    if marker is None:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(marker.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("Invalid Marker.") from None
    if prefix != "simulation" or not number.isdigit():
        raise InvalidInput("Invalid Marker.")
    return int(number)


async def _simulate(
    ctx: CallContext,
    params: Params,
    principal: RoleSessionPrincipal,
    identity: list[Policy],
    boundary: Policy | None,
) -> Result:
    context = _context(params.get("ContextEntries"))
    resource_policy = None
    if params.get("ResourcePolicy"):
        resource_policy = parse_policy(
            params["ResourcePolicy"], PolicyKind.RESOURCE, name="resource"
        )
    resources = list(params.get("ResourceArns") or ["*"])
    everything = [
        *identity,
        *([boundary] if boundary else []),
        *([resource_policy] if resource_policy else []),
    ]
    missing = _missing_keys(everything, context)
    results = []
    for action in params["ActionNames"]:
        for resource in resources:
            request = AuthorizationRequest.build(principal, action, resource, context, now=ctx.now)
            decision = evaluate(
                request,
                identity=identity,
                boundary=boundary,
                resource=resource_policy,
                resource_account=params.get("ResourceOwner", "").rpartition(":")[2]
                or ctx.account_id,
            )
            result: dict[str, object] = {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": _DECISIONS[decision.kind],
                "MatchedStatements": _statement_refs(decision),
                "MissingContextValues": missing,
            }
            if boundary is not None:
                within = evaluate(request, identity=[boundary]).allowed
                result["PermissionsBoundaryDecisionDetail"] = {
                    "AllowedByPermissionsBoundary": within
                }
            results.append(result)
    start = _offset(params.get("Marker"))
    limit = max_items(params)
    page = results[start : start + limit]
    truncated = start + limit < len(results)
    answer: dict[str, object] = {"EvaluationResults": page, "IsTruncated": truncated}
    if truncated:
        answer["Marker"] = _marker(start + limit)
    return answer


def _principal(account_id: str, role_arn: str, role_id: str) -> RoleSessionPrincipal:
    name = role_arn.rpartition("/")[2]
    return RoleSessionPrincipal(
        account=account_id,
        role_arn=role_arn,
        role_id=role_id,
        session_name=_SIMULATION_SESSION,
        session_arn=f"arn:aws:sts::{account_id}:assumed-role/{name}/{_SIMULATION_SESSION}",
    )


async def simulate_principal_policy(ctx: CallContext, params: Params) -> Result:
    source = str(params["PolicySourceArn"])
    prefix = f"arn:aws:iam::{ctx.account_id}:role/"
    if not source.startswith(prefix):
        raise InvalidInput(
            f"PolicySourceArn {source[:256]} is not a role of account {ctx.account_id}; "
            "webfed simulates roles."
        )
    name = source.rpartition("/")[2]
    try:
        found = await ctx.store.iam.attachments.permissions(ctx.account_id, name)
    except NoSuchEntity:
        raise NoSuchEntity(f"The role with name {name} cannot be found.") from None
    if found.role.arn != source:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    identity = [parse_policy(doc, PolicyKind.IDENTITY, name=n) for n, doc in found.inline]
    identity += [parse_policy(doc, PolicyKind.IDENTITY, name=arn) for arn, doc in found.managed]
    identity += _parse_all(
        params.get("PolicyInputList") or (), PolicyKind.IDENTITY, "PolicyInputList"
    )
    boundaries = params.get("PermissionsBoundaryPolicyInputList")
    boundary = None
    if boundaries:
        boundary = parse_policy(
            boundaries[0], PolicyKind.BOUNDARY, name="PermissionsBoundaryPolicyInputList.1"
        )
    elif found.boundary is not None:
        boundary = parse_policy(found.boundary, PolicyKind.BOUNDARY, name="boundary")
    principal = _principal(ctx.account_id, found.role.arn, found.role.role_id)
    return await _simulate(ctx, params, principal, identity, boundary)


async def simulate_custom_policy(ctx: CallContext, params: Params) -> Result:
    identity = _parse_all(params["PolicyInputList"], PolicyKind.IDENTITY, "PolicyInputList")
    boundaries = params.get("PermissionsBoundaryPolicyInputList")
    boundary = None
    if boundaries:
        boundary = parse_policy(
            boundaries[0], PolicyKind.BOUNDARY, name="PermissionsBoundaryPolicyInputList.1"
        )
    caller = params.get("CallerArn") or f"arn:aws:iam::{ctx.account_id}:role/SimulatedPrincipal"
    principal = _principal(ctx.account_id, str(caller), "AROASIMULATEDPRINCIPAL")
    return await _simulate(ctx, params, principal, identity, boundary)
