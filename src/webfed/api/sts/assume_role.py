"""``AssumeRole`` with temporary credentials: role chaining.

IAM User Guide, "Role chaining" and "Passing session tags in AWS STS": a chained session lasts
at most one hour; session tags marked transitive, and the source identity, carry into the new
session and cannot be overridden; passing tags needs ``sts:TagSession`` and setting a source
identity ``sts:SetSourceIdentity``. The caller's own permissions (its role's policies, boundary
and session policies) and the target role's trust policy are evaluated together, as AWS does
for a same-account request. The account's root credentials may not assume roles (AWS's rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from webfed.api.context import CallContext, Params, Result
from webfed.api.sts.denials import require_trust, trust_denied
from webfed.api.sts.sessions import (
    assumed_role_user,
    check_duration,
    credentials_member,
    load_role,
    mint,
    new_session,
    packed_size,
    read_session_policies,
    require_runtime,
)
from webfed.authorize import session_context_keys, session_policies, session_principal
from webfed.core.credentials import SessionContext
from webfed.core.entities import Role
from webfed.errors import AccessDenied, InvalidParameterValue, ValidationError

__all__ = ["assume_role"]

ACTION = "sts:AssumeRole"


def _caller_session(ctx: CallContext) -> SessionContext:
    caller = ctx.caller
    if caller is None or caller.session is None:
        raise AccessDenied("Roles may not be assumed by root accounts.")
    return caller.session


def _check_unsupported(params: Params) -> None:
    if params.get("SerialNumber") or params.get("TokenCode"):
        raise AccessDenied(
            "MultiFactorAuthentication failed: webfed has no MFA devices to check the code with."
        )
    if params.get("ProvidedContexts"):
        raise InvalidParameterValue("ProvidedContexts are not supported by webfed.")


def _new_tags(params: Params) -> list[tuple[str, str]]:
    tags = [(str(tag["Key"]), str(tag["Value"])) for tag in params.get("Tags") or ()]
    seen: set[str] = set()
    for key, _ in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(f"Tag keys may not begin with 'aws:': {key}")
        if key.lower() in seen:
            raise InvalidParameterValue(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
    return tags


def _carried_tags(
    caller: SessionContext, tags: list[tuple[str, str]], transitive: Sequence[str]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The new session's tags and transitive keys: the caller's transitive tags, then new ones."""
    inherited_keys = {key.lower() for key in caller.transitive_tag_keys}
    inherited = [(k, v) for k, v in caller.session_tags if k.lower() in inherited_keys]
    new_keys = {key.lower() for key, _ in tags}
    if clash := sorted(inherited_keys & new_keys):
        raise InvalidParameterValue(
            f"The transitive session tag(s) {', '.join(clash)} of the calling session cannot "
            "be overridden."
        )
    if missing := sorted({key.lower() for key in transitive} - new_keys):
        raise InvalidParameterValue(
            f"TransitiveTagKeys must name tags passed in Tags; not passed: {', '.join(missing)}"
        )
    keys = list(caller.transitive_tag_keys) + list(transitive)
    return tuple(inherited + tags), tuple(keys)


def _source_identity(caller: SessionContext, requested: str | None) -> str | None:
    if requested is None:
        return caller.source_identity
    if requested.lower().startswith("aws:"):
        raise ValidationError("SourceIdentity may not begin with 'aws:'.")
    if caller.source_identity is not None and caller.source_identity != requested:
        raise ValidationError("The source identity of a session cannot be changed once set.")
    return requested


def _trust_keys(
    params: Params, caller_keys: Mapping[str, str | list[str]], tags: list[tuple[str, str]]
) -> dict[str, str | list[str]]:
    keys: dict[str, str | list[str]] = dict(caller_keys)
    keys["sts:RoleSessionName"] = params["RoleSessionName"]
    if params.get("ExternalId") is not None:
        keys["sts:ExternalId"] = params["ExternalId"]
    for key, value in tags:
        keys[f"aws:RequestTag/{key}"] = value
    if tags:
        keys["aws:TagKeys"] = [key for key, _ in tags]
        keys["sts:TransitiveTagKeys"] = list(params.get("TransitiveTagKeys") or ())
    if params.get("SourceIdentity") is not None:
        keys["sts:SourceIdentity"] = params["SourceIdentity"]
    return keys


async def _authorize(
    ctx: CallContext,
    caller: SessionContext,
    role: Role | None,
    params: Params,
    tags: list[tuple[str, str]],
) -> Role:
    runtime = require_runtime(ctx)
    caller_policies = await runtime.iam.role_policies(caller.role_name)
    if caller_policies is not None and caller_policies.role.role_id != caller.role_id:
        caller_policies = None  # deleted and re-created: the new role is not the session's role
    role_tags = caller_policies.role.tags if caller_policies is not None else ()
    keys = _trust_keys(
        params, session_context_keys(caller, role_tags, source_ip=ctx.source_ip), tags
    )
    described = {"arn": caller.assumed_role_arn}
    if role is None or caller_policies is None:
        reason = f"the role {params['RoleArn']} does not exist in account {ctx.account_id}"
        if caller_policies is None:
            reason = f"the calling session's role {caller.role_arn} no longer exists"
        raise trust_denied(
            ctx,
            action=ACTION,
            role_arn=params["RoleArn"],
            decision=None,
            principal=described,
            conditions=keys,
            reason=reason,
        )
    actions = [ACTION]
    if tags:
        actions.append("sts:TagSession")
    if params.get("SourceIdentity") is not None:
        actions.append("sts:SetSourceIdentity")
    require_trust(
        ctx,
        role,
        session_principal(caller),
        actions,
        keys,
        described=described,
        identity=caller_policies.identity,
        boundary=caller_policies.boundary,
        session=await session_policies(runtime.iam, caller),
    )
    return role


async def assume_role(ctx: CallContext, params: Params) -> Result:
    caller = _caller_session(ctx)
    _check_unsupported(params)
    tags = _new_tags(params)
    all_tags, transitive = _carried_tags(caller, tags, params.get("TransitiveTagKeys") or ())
    source_identity = _source_identity(caller, params.get("SourceIdentity"))
    role = await _authorize(ctx, caller, await load_role(ctx, params["RoleArn"]), params, tags)
    policies = await read_session_policies(ctx, params)
    duration = check_duration(params.get("DurationSeconds"), role, chained=True)
    session = new_session(
        ctx,
        role,
        params,
        policies,
        duration,
        session_tags=all_tags,
        transitive_tag_keys=transitive,
        source_identity=source_identity,
        chained=True,
    )
    packed = packed_size(policies, all_tags)
    credentials = mint(ctx, session)
    result: dict[str, Any] = {
        "Credentials": credentials_member(credentials),
        "AssumedRoleUser": assumed_role_user(session),
        "PackedPolicySize": packed,
        "SourceIdentity": source_identity,
    }
    return result
