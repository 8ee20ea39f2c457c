"""Identity-pool management operations (administrator only).

Cognito Identity API reference: ``CreateIdentityPool``, ``UpdateIdentityPool``,
``DescribeIdentityPool``, ``DeleteIdentityPool``, ``ListIdentityPools``,
``SetIdentityPoolRoles``, ``GetIdentityPoolRoles``, ``SetPrincipalTagAttributeMap``,
``GetPrincipalTagAttributeMap``, ``TagResource``, ``UntagResource``, ``ListTagsForResource``.
"""

from __future__ import annotations

import secrets
import uuid
from random import Random
from typing import Any, cast

from webfed.api.cognito_identity._inputs import (
    decode_token,
    encode_token,
    pool_config,
    pool_id_from_arn,
    provider_keys,
    tags_from,
)
from webfed.api.cognito_identity._roles import mappings_shape, parse_role_mappings, parse_roles
from webfed.api.context import CallContext, Params, Result
from webfed.errors import InvalidParameterException
from webfed.storage.identity_models import IdentityPool, PrincipalTagMap, frozen_map

__all__ = [
    "create_identity_pool",
    "delete_identity_pool",
    "describe_identity_pool",
    "get_identity_pool_roles",
    "get_principal_tag_attribute_map",
    "list_identity_pools",
    "list_tags_for_resource",
    "new_pool_id",
    "set_identity_pool_roles",
    "set_principal_tag_attribute_map",
    "tag_resource",
    "untag_resource",
    "update_identity_pool",
]

_RANDOM = secrets.SystemRandom()
_LISTING = "identity-pools"


def new_pool_id(region: str, rng: Random) -> str:
    """``REGION:UUID`` (version 4, lower-case hex), the shape of every Cognito pool id."""
    return f"{region}:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def pool_shape(pool: IdentityPool) -> Result:
    """The ``IdentityPool`` output structure."""
    config = pool.config
    shape: Result = {
        "IdentityPoolId": pool.pool_id,
        "IdentityPoolName": config.name,
        "AllowUnauthenticatedIdentities": config.allow_unauthenticated,
        "AllowClassicFlow": config.allow_classic_flow,
        "SupportedLoginProviders": dict(config.supported_login_providers),
        "OpenIdConnectProviderARNs": list(config.open_id_connect_provider_arns),
        "CognitoIdentityProviders": [
            {
                "ProviderName": provider.provider_name,
                "ClientId": provider.client_id,
                "ServerSideTokenCheck": provider.server_side_token_check,
            }
            for provider in config.cognito_identity_providers
        ],
        "SamlProviderARNs": list(config.saml_provider_arns),
        "IdentityPoolTags": dict(pool.tags),
    }
    if config.developer_provider_name is not None:
        shape["DeveloperProviderName"] = config.developer_provider_name
    return shape


async def create_identity_pool(ctx: CallContext, params: Params) -> Result:
    config = await pool_config(ctx, params)
    tags = tags_from(params.get("IdentityPoolTags"), "IdentityPoolTags")
    pool = await ctx.store.identity_pools.create(
        ctx.account_id,
        pool_id=new_pool_id(ctx.region, _RANDOM),
        config=config,
        tags=tags,
        now=ctx.now,
    )
    return pool_shape(pool)


async def update_identity_pool(ctx: CallContext, params: Params) -> Result:
    pool_id = str(params["IdentityPoolId"])
    await ctx.store.identity_pools.get(ctx.account_id, pool_id)
    config = await pool_config(ctx, params)
    tags = params.get("IdentityPoolTags")
    pool = await ctx.store.identity_pools.update(
        ctx.account_id,
        pool_id,
        config,
        tags=None if tags is None else tags_from(tags, "IdentityPoolTags"),
        now=ctx.now,
    )
    return pool_shape(pool)


async def describe_identity_pool(ctx: CallContext, params: Params) -> Result:
    pool = await ctx.store.identity_pools.get(ctx.account_id, str(params["IdentityPoolId"]))
    return pool_shape(pool)


async def delete_identity_pool(ctx: CallContext, params: Params) -> Result:
    await ctx.store.identity_pools.delete(ctx.account_id, str(params["IdentityPoolId"]))
    return {}


async def list_identity_pools(ctx: CallContext, params: Params) -> Result:
    after = decode_token(_LISTING, params.get("NextToken"))
    page = await ctx.store.identity_pools.list(ctx.account_id, after, int(params["MaxResults"]))
    pools = [
        {"IdentityPoolId": pool.pool_id, "IdentityPoolName": pool.config.name}
        for pool in page.pools
    ]
    return {"IdentityPools": pools, **encode_token(_LISTING, page.next_after)}


async def set_identity_pool_roles(ctx: CallContext, params: Params) -> Result:
    pool = await ctx.store.identity_pools.get(ctx.account_id, str(params["IdentityPoolId"]))
    roles = parse_roles(ctx, cast(dict[str, str], params["Roles"]))
    mappings = parse_role_mappings(
        ctx, pool, cast(dict[str, dict[str, Any]], params.get("RoleMappings") or {})
    )
    await ctx.store.identity_pools.set_roles(ctx.account_id, pool.pool_id, roles, mappings, ctx.now)
    return {}


async def get_identity_pool_roles(ctx: CallContext, params: Params) -> Result:
    pool = await ctx.store.identity_pools.get(ctx.account_id, str(params["IdentityPoolId"]))
    result: Result = {"IdentityPoolId": pool.pool_id, "Roles": dict(pool.roles)}
    if pool.role_mappings:
        result["RoleMappings"] = mappings_shape(pool.role_mappings)
    return result


def _tag_map_shape(mapping: PrincipalTagMap) -> Result:
    return {
        "IdentityPoolId": mapping.pool_id,
        "IdentityProviderName": mapping.provider_name,
        "UseDefaults": mapping.use_defaults,
        "PrincipalTags": dict(mapping.principal_tags),
    }


async def set_principal_tag_attribute_map(ctx: CallContext, params: Params) -> Result:
    """Store the map; ``UseDefaults`` and explicit ``PrincipalTags`` exclude each other."""
    pool = await ctx.store.identity_pools.get(ctx.account_id, str(params["IdentityPoolId"]))
    provider = str(params["IdentityProviderName"])
    if provider not in provider_keys(pool.config):
        raise InvalidParameterException(
            f"IdentityProviderName {provider!r} is not a provider of identity pool {pool.pool_id}."
        )
    use_defaults = bool(params.get("UseDefaults", False))
    tags = frozen_map(params.get("PrincipalTags"))
    if use_defaults and tags:
        raise InvalidParameterException(
            "PrincipalTags must be empty when UseDefaults is true (the default mapping applies)."
        )
    mapping = PrincipalTagMap(pool.pool_id, provider, use_defaults, tags)
    await ctx.store.identity_pools.set_principal_tag_map(ctx.account_id, mapping)
    return _tag_map_shape(mapping)


async def get_principal_tag_attribute_map(ctx: CallContext, params: Params) -> Result:
    """The stored map; a provider never mapped has no tags and no defaults."""
    pool_id, provider = str(params["IdentityPoolId"]), str(params["IdentityProviderName"])
    stored = await ctx.store.identity_pools.get_principal_tag_map(ctx.account_id, pool_id, provider)
    if stored is None:
        stored = PrincipalTagMap(pool_id, provider, False, frozen_map())
    return _tag_map_shape(stored)


async def tag_resource(ctx: CallContext, params: Params) -> Result:
    pool_id = pool_id_from_arn(ctx, str(params["ResourceArn"]))
    tags = tags_from(params["Tags"], "Tags")
    await ctx.store.identity_pools.tag(ctx.account_id, pool_id, tags)
    return {}


async def untag_resource(ctx: CallContext, params: Params) -> Result:
    pool_id = pool_id_from_arn(ctx, str(params["ResourceArn"]))
    keys = [str(key) for key in params["TagKeys"]]
    await ctx.store.identity_pools.untag(ctx.account_id, pool_id, keys)
    return {}


async def list_tags_for_resource(ctx: CallContext, params: Params) -> Result:
    pool_id = pool_id_from_arn(ctx, str(params["ResourceArn"]))
    pool = await ctx.store.identity_pools.get(ctx.account_id, pool_id)
    return {"Tags": dict(pool.tags)}
