"""IAM role operations, including inline policies, permissions boundaries and tags.

IAM API reference: ``CreateRole``, ``GetRole``, ``UpdateRole``, ``UpdateRoleDescription``,
``DeleteRole``, ``ListRoles``, ``UpdateAssumeRolePolicy``, ``PutRolePolicy``, ``GetRolePolicy``,
``ListRolePolicies``, ``DeleteRolePolicy``, ``PutRolePermissionsBoundary``,
``DeleteRolePermissionsBoundary``, ``TagRole``, ``UntagRole`` and ``ListRoleTags``.
"""

from __future__ import annotations

import secrets

from webfed.api.context import CallContext, Params, Result
from webfed.api.iam._documents import (
    check_identity_policy,
    check_trust_policy,
    encode_document,
)
from webfed.api.iam._inputs import check_entity_name, max_items, tag_keys, tags_from
from webfed.api.iam._shapes import page_members, role_shape, tags_shape
from webfed.core.identifiers import new_role_id, parse_policy_arn

__all__ = [
    "create_role",
    "delete_role",
    "delete_role_boundary",
    "delete_role_policy",
    "get_role",
    "get_role_policy",
    "list_role_policies",
    "list_role_tags",
    "list_roles",
    "put_role_boundary",
    "put_role_policy",
    "tag_role",
    "untag_role",
    "update_assume_role_policy",
    "update_role",
    "update_role_description",
]

DEFAULT_MAX_SESSION_DURATION = 3600
_RANDOM = secrets.SystemRandom()


async def create_role(ctx: CallContext, params: Params) -> Result:
    trust_policy = params["AssumeRolePolicyDocument"]
    check_trust_policy(trust_policy, ctx.settings.trust_policy_max_size)
    boundary = params.get("PermissionsBoundary")
    if boundary is not None:
        parse_policy_arn(boundary)
    role = await ctx.store.iam.roles.create(
        ctx.account_id,
        role_id=new_role_id(_RANDOM),
        name=check_entity_name(params["RoleName"], "roleName"),
        path=params.get("Path") or "/",
        trust_policy=trust_policy,
        description=params.get("Description"),
        max_session_duration=params.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_DURATION,
        permissions_boundary_arn=boundary,
        tags=tags_from(params.get("Tags"), case_insensitive=True),
        now=ctx.now,
    )
    shape = role_shape(role)
    shape.pop("RoleLastUsed")
    return {"Role": shape}


async def get_role(ctx: CallContext, params: Params) -> Result:
    role = await ctx.store.iam.roles.get(ctx.account_id, params["RoleName"])
    return {"Role": role_shape(role)}


async def update_role(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.roles.update(
        ctx.account_id,
        params["RoleName"],
        description=params.get("Description"),
        max_session_duration=params.get("MaxSessionDuration"),
    )
    return {}


async def update_role_description(ctx: CallContext, params: Params) -> Result:
    role = await ctx.store.iam.roles.update(
        ctx.account_id, params["RoleName"], description=params["Description"]
    )
    return {"Role": role_shape(role)}


async def delete_role(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.roles.delete(ctx.account_id, params["RoleName"])
    return {}


async def list_roles(ctx: CallContext, params: Params) -> Result:
    page = await ctx.store.iam.roles.list(
        ctx.account_id,
        path_prefix=params.get("PathPrefix") or "/",
        marker=params.get("Marker"),
        max_items=max_items(params),
    )
    roles = [role_shape(role, full=False) for role in page.items]
    return {"Roles": roles, **page_members(page)}


async def update_assume_role_policy(ctx: CallContext, params: Params) -> Result:
    document = params["PolicyDocument"]
    check_trust_policy(document, ctx.settings.trust_policy_max_size)
    await ctx.store.iam.roles.update_trust_policy(ctx.account_id, params["RoleName"], document)
    return {}


async def put_role_policy(ctx: CallContext, params: Params) -> Result:
    document, name = params["PolicyDocument"], params["PolicyName"]
    size = check_identity_policy(document, name)
    await ctx.store.iam.roles.put_inline_policy(
        ctx.account_id, params["RoleName"], name, document, size
    )
    return {}


async def get_role_policy(ctx: CallContext, params: Params) -> Result:
    role = await ctx.store.iam.roles.get(ctx.account_id, params["RoleName"])
    name = params["PolicyName"]
    document = await ctx.store.iam.roles.get_inline_policy(ctx.account_id, role.name, name)
    return {"RoleName": role.name, "PolicyName": name, "PolicyDocument": encode_document(document)}


async def list_role_policies(ctx: CallContext, params: Params) -> Result:
    page = await ctx.store.iam.roles.list_inline_policies(
        ctx.account_id, params["RoleName"], marker=params.get("Marker"), max_items=max_items(params)
    )
    return {"PolicyNames": list(page.items), **page_members(page)}


async def delete_role_policy(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.roles.delete_inline_policy(
        ctx.account_id, params["RoleName"], params["PolicyName"]
    )
    return {}


async def put_role_boundary(ctx: CallContext, params: Params) -> Result:
    arn = params["PermissionsBoundary"]
    parse_policy_arn(arn)
    await ctx.store.iam.roles.put_boundary(ctx.account_id, params["RoleName"], arn)
    return {}


async def delete_role_boundary(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.roles.delete_boundary(ctx.account_id, params["RoleName"])
    return {}


async def tag_role(ctx: CallContext, params: Params) -> Result:
    tags = tags_from(params["Tags"], case_insensitive=True)
    await ctx.store.iam.roles.tag(ctx.account_id, params["RoleName"], tags)
    return {}


async def untag_role(ctx: CallContext, params: Params) -> Result:
    await ctx.store.iam.roles.untag(ctx.account_id, params["RoleName"], tag_keys(params["TagKeys"]))
    return {}


async def list_role_tags(ctx: CallContext, params: Params) -> Result:
    page = await ctx.store.iam.roles.list_tags(
        ctx.account_id, params["RoleName"], marker=params.get("Marker"), max_items=max_items(params)
    )
    return {"Tags": tags_shape(page.items), **page_members(page)}
