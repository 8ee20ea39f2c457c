"""Semantic checks of Cognito Identity management inputs, beyond what the wire model checks.

The protocol layer has already enforced botocore's ``cognito-identity`` model (required members,
lengths, patterns, enums, map sizes). These functions apply the rules the API reference states in
prose (``CreateIdentityPool``, ``SetIdentityPoolRoles``, ``RoleMapping``, ``MappingRule``,
``TagResource``), each failure an ``InvalidParameterException`` naming the member and the value.

The rules are pure functions of the input and the account id (:func:`pool_config_of`,
:func:`check_role_arn`, ...), so the declarative configuration (``webfed apply``) checks a file
with exactly the rules the API applies; the ``CallContext`` forms (:func:`pool_config`,
:func:`require_role_arn`) add what needs the store, such as the OIDC providers existing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from webfed.api.context import CallContext, Params
from webfed.core.arn import ArnError, parse_arn
from webfed.core.oidc import COGNITO_PROVIDER_KEY
from webfed.errors import InvalidInput, InvalidParameterException, ResourceNotFound
from webfed.storage.identity_models import (
    CognitoProvider,
    IdentityPoolConfig,
    PrincipalTagMap,
    frozen_map,
)
from webfed.storage.pagination import decode_marker, encode_marker

__all__ = [
    "MAX_POOL_TAGS",
    "PUBLIC_PROVIDERS",
    "check_role_arn",
    "decode_token",
    "developer_provider",
    "encode_token",
    "login_providers",
    "oidc_provider_arns",
    "pool_config",
    "pool_config_of",
    "pool_id_from_arn",
    "principal_tag_map_of",
    "provider_keys",
    "require_role_arn",
    "tags_from",
    "unknown_oidc_provider",
    "user_pool_providers",
]

PUBLIC_PROVIDERS = frozenset(
    {
        "graph.facebook.com",
        "accounts.google.com",
        "appleid.apple.com",
        "www.amazon.com",
        "api.twitter.com",
        "www.digits.com",
    }
)
COGNITO_ISSUER = COGNITO_PROVIDER_KEY
MAX_POOL_TAGS = 50
MAX_USER_POOL_PROVIDERS = 50
_USER_POOL = re.compile(r"cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P=region)_\w+")
_POOL_ARN = re.compile(
    r"arn:aws:cognito-identity:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"identitypool/(?P<pool>[\w-]+:[0-9a-f-]+)"
)


def _invalid(message: str) -> InvalidParameterException:
    return InvalidParameterException(message)


def tags_from(value: Mapping[str, str] | None, member: str) -> Mapping[str, str]:
    """A tag map of at most 50 entries; keys may not start with ``aws:`` (reserved)."""
    tags = dict(value or {})
    if len(tags) > MAX_POOL_TAGS:
        raise _invalid(f"{member} holds {len(tags)} tags; at most {MAX_POOL_TAGS} are allowed.")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise _invalid(f"{member}: tag key {key!r} uses the reserved prefix 'aws:'.")
    return frozen_map(tags)


def require_role_arn(ctx: CallContext, arn: str, member: str) -> str:
    """``arn`` must be the ARN of an IAM role of the caller's account."""
    return check_role_arn(ctx.account_id, arn, member)


def check_role_arn(account_id: str, arn: str, member: str) -> str:
    """``arn`` must be the ARN of an IAM role of ``account_id`` (the role need not exist)."""
    try:
        parsed = parse_arn(arn)
    except ArnError as error:
        raise _invalid(f"{member} {arn!r} is not an ARN.") from error
    if parsed.service != "iam" or parsed.resource_type != "role" or parsed.region:
        raise _invalid(f"{member} {arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).")
    if parsed.account != account_id:
        raise _invalid(f"{member} {arn!r} is a role of account {parsed.account}, not of this one.")
    if not parsed.resource.removeprefix("role/").rsplit("/", 1)[-1]:
        raise _invalid(f"{member} {arn!r} has no role name.")
    return arn


def login_providers(value: Mapping[str, str] | None) -> Mapping[str, str]:
    """``SupportedLoginProviders``: public provider names only."""
    providers = dict(value or {})
    for name in providers:
        if name not in PUBLIC_PROVIDERS:
            raise _invalid(
                f"SupportedLoginProviders key {name!r} is not a public provider; use one of "
                f"{', '.join(sorted(PUBLIC_PROVIDERS))} (OIDC issuers go in "
                "OpenIdConnectProviderARNs)."
            )
    return frozen_map(providers)


def developer_provider(value: str | None) -> str | None:
    """``DeveloperProviderName``: not a public provider's name nor Cognito's own issuer."""
    if value is not None and (value in PUBLIC_PROVIDERS or value == COGNITO_ISSUER):
        raise _invalid(f"DeveloperProviderName {value!r} is reserved for a public provider.")
    return value


def oidc_provider_arns(account_id: str, arns: Sequence[str]) -> tuple[str, ...]:
    """``OpenIdConnectProviderARNs``: each once, each an OIDC provider ARN of ``account_id``.

    Whether IAM holds the providers is the caller's to check (see :func:`oidc_resource`).
    """
    if len(set(arns)) != len(arns):
        raise _invalid("OpenIdConnectProviderARNs lists the same provider twice.")
    for arn in arns:
        prefix = f"arn:aws:iam::{account_id}:oidc-provider/"
        resource = arn.removeprefix(prefix)
        if resource == arn or not resource:
            raise _invalid(
                f"OpenIdConnectProviderARNs: {arn!r} is not an OIDC provider ARN of this "
                f"account ({prefix}HOST)."
            )
    return tuple(arns)


def unknown_oidc_provider(arn: str) -> InvalidParameterException:
    """The error for an ``OpenIdConnectProviderARNs`` entry IAM does not hold."""
    return _invalid(f"OpenIdConnectProviderARNs: IAM has no provider {arn}.")


async def _oidc_arns(ctx: CallContext, arns: Sequence[str]) -> tuple[str, ...]:
    checked = oidc_provider_arns(ctx.account_id, arns)
    for arn in checked:
        resource = arn.split(":oidc-provider/", 1)[1]
        if await ctx.store.iam.providers.find(ctx.account_id, resource) is None:
            raise unknown_oidc_provider(arn)
    return checked


def user_pool_providers(items: Sequence[Mapping[str, Any]]) -> tuple[CognitoProvider, ...]:
    """``CognitoIdentityProviders``: user-pool app clients, each once, at most 50."""
    if len(items) > MAX_USER_POOL_PROVIDERS:
        raise _invalid(f"CognitoIdentityProviders: at most {MAX_USER_POOL_PROVIDERS} are allowed.")
    providers: list[CognitoProvider] = []
    for item in items:
        name, client = item.get("ProviderName"), item.get("ClientId")
        if not isinstance(name, str) or not isinstance(client, str):
            raise _invalid("CognitoIdentityProviders: each needs ProviderName and ClientId.")
        if _USER_POOL.fullmatch(name) is None:
            raise _invalid(
                f"CognitoIdentityProviders: ProviderName {name!r} is not "
                "cognito-idp.REGION.amazonaws.com/REGION_POOLID."
            )
        check = bool(item.get("ServerSideTokenCheck", False))
        providers.append(CognitoProvider(name, client, check))
    if len({(p.provider_name, p.client_id) for p in providers}) != len(providers):
        raise _invalid("CognitoIdentityProviders lists the same ProviderName and ClientId twice.")
    return tuple(providers)


async def pool_config(ctx: CallContext, params: Params) -> IdentityPoolConfig:
    """The configuration ``CreateIdentityPool`` / ``UpdateIdentityPool`` describe, once every
    OpenID Connect provider it names is known to be held by IAM."""
    config = pool_config_of(ctx.account_id, params)
    await _oidc_arns(ctx, config.open_id_connect_provider_arns)
    return config


def pool_config_of(account_id: str, params: Params) -> IdentityPoolConfig:
    """The configuration ``CreateIdentityPool`` / ``UpdateIdentityPool`` describe, every rule
    checked except whether IAM holds the OpenID Connect providers.

    Omitted members take their defaults (``UpdateIdentityPool`` is a full replace). SAML
    providers are refused: webfed has no SAML provider to point at.
    """
    if params.get("SamlProviderARNs"):
        raise _invalid("SamlProviderARNs: webfed does not support SAML identity providers.")
    return IdentityPoolConfig(
        name=str(params["IdentityPoolName"]),
        allow_unauthenticated=bool(params["AllowUnauthenticatedIdentities"]),
        allow_classic_flow=bool(params.get("AllowClassicFlow", False)),
        supported_login_providers=login_providers(params.get("SupportedLoginProviders")),
        developer_provider_name=developer_provider(params.get("DeveloperProviderName")),
        open_id_connect_provider_arns=oidc_provider_arns(
            account_id, cast(list[str], params.get("OpenIdConnectProviderARNs", []))
        ),
        cognito_identity_providers=user_pool_providers(
            cast(list[Mapping[str, Any]], params.get("CognitoIdentityProviders", []))
        ),
    )


def provider_keys(config: IdentityPoolConfig) -> frozenset[str]:
    """The names a login of this pool's providers is keyed by (``Logins`` map keys)."""
    keys = set(config.supported_login_providers)
    keys.update(arn.split(":oidc-provider/", 1)[1] for arn in config.open_id_connect_provider_arns)
    keys.update(f"{p.provider_name}:{p.client_id}" for p in config.cognito_identity_providers)
    keys.update(p.provider_name for p in config.cognito_identity_providers)
    if config.developer_provider_name is not None:
        keys.add(config.developer_provider_name)
    return frozenset(keys)


def principal_tag_map_of(
    pool_id: str,
    config: IdentityPoolConfig,
    provider: str,
    use_defaults: bool,
    tags: Mapping[str, str] | None,
) -> PrincipalTagMap:
    """``SetPrincipalTagAttributeMap``: the provider must be one of the pool's, and
    ``UseDefaults`` excludes explicit ``PrincipalTags`` (which would be ambiguous)."""
    if provider not in provider_keys(config):
        raise _invalid(
            f"IdentityProviderName {provider!r} is not a provider of identity pool {pool_id}."
        )
    mapped = frozen_map(tags)
    if use_defaults and mapped:
        raise _invalid(
            "PrincipalTags must be empty when UseDefaults is true (the default mapping applies)."
        )
    return PrincipalTagMap(pool_id, provider, use_defaults, mapped)


def pool_id_from_arn(ctx: CallContext, arn: str) -> str:
    """The pool id of an identity-pool ARN; another account's or region's pool is not found."""
    match = _POOL_ARN.fullmatch(arn)
    if match is None:
        raise _invalid(
            f"ResourceArn {arn!r} is not an identity pool ARN "
            "(arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/POOL_ID)."
        )
    if match["account"] != ctx.account_id or match["region"] != match["pool"].split(":")[0]:
        raise ResourceNotFound(f"Identity pool {arn} does not exist in this account.")
    return match["pool"]


def encode_token(kind: str, after: str | None) -> dict[str, str]:
    """The ``NextToken`` member for a page that stopped after ``after`` (none when done)."""
    return {} if after is None else {"NextToken": encode_marker(kind, after)}


def decode_token(kind: str, token: str | None) -> str | None:
    try:
        return decode_marker(kind, token)
    except InvalidInput as error:
        raise _invalid("NextToken is not one this listing handed out.") from error
