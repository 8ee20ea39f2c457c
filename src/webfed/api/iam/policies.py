"""IAM customer managed policy operations and role attachments.

IAM API reference: ``CreatePolicy``, ``GetPolicy``, ``DeletePolicy``, ``ListPolicies``,
``CreatePolicyVersion``, ``GetPolicyVersion``, ``ListPolicyVersions``, ``DeletePolicyVersion``,
``SetDefaultPolicyVersion``, ``AttachRolePolicy``, ``DetachRolePolicy`` and
``ListAttachedRolePolicies``.
"""

from __future__ import annotations

import secrets

from webfed.api.context import CallContext, Params, Result
from webfed.api.iam._documents import check_managed_policy
from webfed.api.iam._inputs import check_entity_name, max_items, tags_from
from webfed.api.iam._shapes import page_members, policy_shape, version_shape
from webfed.core.identifiers import new_policy_id, parse_policy_arn

__all__ = [
    "attach_role_policy",
    "create_policy",
    "create_policy_version",
    "delete_policy",
    "delete_policy_version",
    "detach_role_policy",
    "get_policy",
    "get_policy_version",
    "list_attached_role_policies",
    "list_policies",
    "list_policy_versions",
    "set_default_policy_version",
]

_RANDOM = secrets.SystemRandom()


def _arn(params: Params) -> str:
    arn: str = params["PolicyArn"]
    parse_policy_arn(arn)
    return arn


async def create_policy(ctx: CallContext, params: Params) -> Result:
    document = params["PolicyDocument"]
    check_managed_policy(document)
    policy = await ctx.store.iam.policies.create(
        ctx.account_id,
        policy_id=new_policy_id(_RANDOM),
        name=check_entity_name(params["PolicyName"], "policyName"),
        path=params.get("Path") or "/",
        description=params.get("Description"),
        document=document,
        tags=tags_from(params.get("Tags"), case_insensitive=True),
        now=ctx.now,
    )
    return {"Policy": policy_shape(policy)}


async def get_policy(ctx: CallContext, params: Params) -> Result:
    policy = await ctx.store.iam.policies.get(ctx.account_id, _arn(params))
    return {"Policy": policy_shape(policy)}


async def delete_policy(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.policies.delete(ctx.account_id, _arn(params))
    return {}


async def list_policies(ctx: CallContext, params: Params) -> Result:
    page = await ctx.store.iam.policies.list(
        ctx.account_id,
        scope=params.get("Scope") or "All",
        only_attached=bool(params.get("OnlyAttached")),
        path_prefix=params.get("PathPrefix") or "/",
        usage=params.get("PolicyUsageFilter"),
        marker=params.get("Marker"),
        max_items=max_items(params),
    )
    policies = [policy_shape(policy, full=False) for policy in page.items]
    return {"Policies": policies, **page_members(page)}


async def create_policy_version(ctx: CallContext, params: Params) -> Result:
    document = params["PolicyDocument"]
    check_managed_policy(document)
    version = await ctx.store.iam.policies.create_version(
        ctx.account_id,
        _arn(params),
        document,
        set_as_default=bool(params.get("SetAsDefault")),
        now=ctx.now,
    )
    return {"PolicyVersion": version_shape(version, with_document=False)}


async def get_policy_version(ctx: CallContext, params: Params) -> Result:
    version = await ctx.store.iam.policies.get_version(
        ctx.account_id, _arn(params), params["VersionId"]
    )
    return {"PolicyVersion": version_shape(version)}


async def list_policy_versions(ctx: CallContext, params: Params) -> Result:
    page = await ctx.store.iam.policies.list_versions(
        ctx.account_id, _arn(params), marker=params.get("Marker"), max_items=max_items(params)
    )
    versions = [version_shape(version, with_document=False) for version in page.items]
    return {"Versions": versions, **page_members(page)}


async def delete_policy_version(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.policies.delete_version(ctx.account_id, _arn(params), params["VersionId"])
    return {}


async def set_default_policy_version(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.policies.set_default_version(
        ctx.account_id, _arn(params), params["VersionId"]
    )
    return {}


async def attach_role_policy(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.attachments.attach(
        ctx.account_id, params["RoleName"], _arn(params), ctx.now
    )
    return {}


async def detach_role_policy(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.attachments.detach(ctx.account_id, params["RoleName"], _arn(params))
    return {}


async def list_attached_role_policies(ctx: CallContext, params: Params) -> Result:
    page = await ctx.store.iam.attachments.list_attached(
        ctx.account_id,
        params["RoleName"],
        path_prefix=params.get("PathPrefix") or "/",
        marker=params.get("Marker"),
        max_items=max_items(params),
    )
    attached = [{"PolicyName": item.name, "PolicyArn": item.arn} for item in page.items]
    return {"AttachedPolicies": attached, **page_members(page)}
