"""IAM OpenID Connect provider operations.

IAM API reference: ``CreateOpenIDConnectProvider``, ``GetOpenIDConnectProvider``,
``ListOpenIDConnectProviders``, ``DeleteOpenIDConnectProvider``,
``AddClientIDToOpenIDConnectProvider``, ``RemoveClientIDFromOpenIDConnectProvider``,
``UpdateOpenIDConnectProviderThumbprint``, ``TagOpenIDConnectProvider``,
``UntagOpenIDConnectProvider`` and ``ListOpenIDConnectProviderTags``.
"""

from __future__ import annotations

from webfed.api.context import CallContext, Params, Result
from webfed.api.iam._inputs import (
    check_client_id,
    check_client_ids,
    check_thumbprints,
    max_items,
    parse_provider_url,
    tag_keys,
    tags_from,
)
from webfed.api.iam._shapes import page_members, tags_shape
from webfed.core.identifiers import parse_oidc_provider_arn
from webfed.errors import NoSuchEntity

__all__ = [
    "add_client_id",
    "create_provider",
    "delete_provider",
    "get_provider",
    "list_provider_tags",
    "list_providers",
    "remove_client_id",
    "tag_provider",
    "untag_provider",
    "update_thumbprint",
]


def _resource(ctx: CallContext, arn: str) -> str:
    """The provider resource named by ``arn``; another account's ARN is simply not found."""
    account_id, resource = parse_oidc_provider_arn(arn)
    if account_id != ctx.account_id:
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")
    return resource


async def create_provider(ctx: CallContext, params: Params) -> Result:
    url = parse_provider_url(params["Url"], allow_http=ctx.settings.allow_http_issuers)
    tags = tags_from(params.get("Tags"), case_insensitive=False)
    provider = await ctx.store.iam.providers.create(
        ctx.account_id,
        url=url.url,
        resource=url.resource,
        client_ids=check_client_ids(params.get("ClientIDList") or ()),
        thumbprints=check_thumbprints(params.get("ThumbprintList") or ()),
        tags=tags,
        now=ctx.now,
    )
    result: Result = {"OpenIDConnectProviderArn": provider.arn}
    if provider.tags:
        result["Tags"] = tags_shape(provider.tags)
    return result


async def get_provider(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    provider = await ctx.store.iam.providers.get(ctx.account_id, resource)
    result: Result = {
        "Url": provider.url.split("://", 1)[1],
        "ClientIDList": list(provider.client_ids),
        "ThumbprintList": list(provider.thumbprints),
        "CreateDate": provider.create_date,
    }
    if provider.tags:
        result["Tags"] = tags_shape(provider.tags)
    return result


async def list_providers(ctx: CallContext, params: Params) -> Result:
    providers = await ctx.store.iam.providers.list(ctx.account_id)
    return {"OpenIDConnectProviderList": [{"Arn": provider.arn} for provider in providers]}


async def delete_provider(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    await ctx.store.iam.providers.delete(ctx.account_id, resource)
    return {}


async def add_client_id(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    client_id = check_client_id(params["ClientID"])
    await ctx.store.iam.providers.add_client_id(ctx.account_id, resource, client_id)
    return {}


async def remove_client_id(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    await ctx.store.iam.providers.remove_client_id(ctx.account_id, resource, params["ClientID"])
    return {}


async def update_thumbprint(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    thumbprints = check_thumbprints(params["ThumbprintList"])
    await ctx.store.iam.providers.update_thumbprints(ctx.account_id, resource, thumbprints)
    return {}


async def tag_provider(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    tags = tags_from(params["Tags"], case_insensitive=False)
    await ctx.store.iam.providers.tag(ctx.account_id, resource, tags)
    return {}


async def untag_provider(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    await ctx.store.iam.providers.untag(ctx.account_id, resource, tag_keys(params["TagKeys"]))
    return {}


async def list_provider_tags(ctx: CallContext, params: Params) -> Result:
    resource = _resource(ctx, params["OpenIDConnectProviderArn"])
    page = await ctx.store.iam.providers.list_tags(
        ctx.account_id, resource, params.get("Marker"), max_items(params)
    )
    return {"Tags": tags_shape(page.items), **page_members(page)}
