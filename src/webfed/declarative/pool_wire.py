"""Identity pools between the declarative model and the Cognito Identity API's member names.

One place builds the requests (``CreateIdentityPool``, ``UpdateIdentityPool``,
``SetIdentityPoolRoles``, ``SetPrincipalTagAttributeMap``) and reads the outputs
(``DescribeIdentityPool``, ``GetIdentityPoolRoles``, ``GetPrincipalTagAttributeMap``), so the
checks before apply validate exactly the requests apply will send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webfed.api.cognito_identity._inputs import provider_keys
from webfed.declarative.model import (
    IdentityPool,
    MappingRule,
    PrincipalTags,
    RoleMapping,
    Tags,
    UserPoolClient,
)
from webfed.storage.identity_models import CognitoProvider, IdentityPoolConfig, frozen_map

__all__ = [
    "CREATE_WITH_ID",
    "api_config",
    "config_params",
    "create_params",
    "mapping_params",
    "pool_from_api",
    "principal_tag_params",
    "provider_names",
    "roles_params",
    "update_params",
]

# The declarative tools' own operation: ``CreateIdentityPool`` with the id chosen by the caller
# (see :mod:`webfed.declarative.pool_operations`). It is never served on the wire.
CREATE_WITH_ID = "CreateIdentityPoolWithId"


def config_params(pool: IdentityPool) -> dict[str, Any]:
    """The configuration members of ``CreateIdentityPool`` and ``UpdateIdentityPool``."""
    params: dict[str, Any] = {
        "IdentityPoolName": pool.name,
        "AllowUnauthenticatedIdentities": pool.allow_unauthenticated,
        "AllowClassicFlow": pool.allow_classic_flow,
        "SupportedLoginProviders": pool.supported_login_providers.as_dict(),
        "OpenIdConnectProviderARNs": list(pool.openid_connect_providers),
        "CognitoIdentityProviders": [
            {
                "ProviderName": client.provider_name,
                "ClientId": client.client_id,
                "ServerSideTokenCheck": client.server_side_token_check,
            }
            for client in pool.cognito_identity_providers
        ],
    }
    if pool.developer_provider_name is not None:
        params["DeveloperProviderName"] = pool.developer_provider_name
    return params


def create_params(pool: IdentityPool) -> dict[str, Any]:
    """:data:`CREATE_WITH_ID`: the pool's id, configuration and tags in one request."""
    params = {"IdentityPoolId": pool.pool_id, **config_params(pool)}
    if pool.tags.items:
        params["IdentityPoolTags"] = pool.tags.as_dict()
    return params


def update_params(pool: IdentityPool) -> dict[str, Any]:
    """``UpdateIdentityPool`` without ``IdentityPoolTags``, so the tags stay as they are (they
    are changed by ``TagResource`` / ``UntagResource``)."""
    return {"IdentityPoolId": pool.pool_id, **config_params(pool)}


def mapping_params(mapping: RoleMapping) -> dict[str, Any]:
    """A ``RoleMapping``; ``RulesConfiguration`` whenever it is ``Rules`` or has rules, so the
    API's own check reports rules given to a ``Token`` mapping."""
    params: dict[str, Any] = {
        "Type": mapping.type,
        "AmbiguousRoleResolution": mapping.ambiguous_role_resolution,
    }
    if mapping.type == "Rules" or mapping.rules:
        params["RulesConfiguration"] = {
            "Rules": [
                {
                    "Claim": rule.claim,
                    "MatchType": rule.match_type,
                    "Value": rule.value,
                    "RoleARN": rule.role,
                }
                for rule in mapping.rules
            ]
        }
    return params


def roles_params(pool: IdentityPool) -> dict[str, Any]:
    """``SetIdentityPoolRoles``: the default roles and every role mapping, replaced whole."""
    return {
        "IdentityPoolId": pool.pool_id,
        "Roles": pool.roles.as_dict(),
        "RoleMappings": {provider: mapping_params(m) for provider, m in pool.role_mappings},
    }


def principal_tag_params(pool_id: str, provider: str, tags: PrincipalTags) -> dict[str, Any]:
    return {
        "IdentityPoolId": pool_id,
        "IdentityProviderName": provider,
        "UseDefaults": tags.use_defaults,
        "PrincipalTags": tags.tags.as_dict(),
    }


def api_config(pool: IdentityPool) -> IdentityPoolConfig:
    """The storage form of the pool's configuration, for the API's rules that take one."""
    return IdentityPoolConfig(
        name=pool.name,
        allow_unauthenticated=pool.allow_unauthenticated,
        allow_classic_flow=pool.allow_classic_flow,
        supported_login_providers=frozen_map(pool.supported_login_providers.as_dict()),
        developer_provider_name=pool.developer_provider_name,
        open_id_connect_provider_arns=pool.openid_connect_providers,
        cognito_identity_providers=tuple(
            CognitoProvider(c.provider_name, c.client_id, c.server_side_token_check)
            for c in pool.cognito_identity_providers
        ),
    )


def provider_names(pool: IdentityPool) -> frozenset[str]:
    """The names the pool's logins are keyed by: what role mappings and principal tag maps
    may be keyed by (the API's :func:`provider_keys`)."""
    return provider_keys(api_config(pool))


def _rule(raw: Mapping[str, Any]) -> MappingRule:
    return MappingRule(
        str(raw["Claim"]), str(raw["MatchType"]), str(raw["Value"]), str(raw["RoleARN"])
    )


def _mapping(raw: Mapping[str, Any]) -> RoleMapping:
    rules = (raw.get("RulesConfiguration") or {}).get("Rules") or []
    return RoleMapping(
        str(raw["Type"]),
        str(raw.get("AmbiguousRoleResolution") or ""),
        tuple(_rule(rule) for rule in rules),
    )


def pool_from_api(
    described: Mapping[str, Any],
    roles: Mapping[str, Any],
    principal_tags: Mapping[str, Mapping[str, Any]],
) -> IdentityPool:
    """A pool from ``DescribeIdentityPool``, ``GetIdentityPoolRoles`` and the
    ``GetPrincipalTagAttributeMap`` output of each of its providers."""
    clients = (
        UserPoolClient(
            str(item["ProviderName"]),
            str(item["ClientId"]),
            bool(item.get("ServerSideTokenCheck", False)),
        )
        for item in described.get("CognitoIdentityProviders") or []
    )
    maps = (
        (
            provider,
            PrincipalTags(bool(raw.get("UseDefaults")), Tags.of(raw.get("PrincipalTags") or {})),
        )
        for provider, raw in principal_tags.items()
    )
    mappings = (roles.get("RoleMappings") or {}).items()
    developer = described.get("DeveloperProviderName")
    return IdentityPool(
        name=str(described["IdentityPoolName"]),
        pool_id=str(described["IdentityPoolId"]),
        allow_unauthenticated=bool(described["AllowUnauthenticatedIdentities"]),
        allow_classic_flow=bool(described.get("AllowClassicFlow", False)),
        supported_login_providers=Tags.of(described.get("SupportedLoginProviders") or {}),
        openid_connect_providers=tuple(sorted(described.get("OpenIdConnectProviderARNs") or ())),
        cognito_identity_providers=tuple(sorted(clients, key=_client_key)),
        developer_provider_name=None if developer is None else str(developer),
        roles=Tags.of(roles.get("Roles") or {}),
        role_mappings=tuple(sorted((str(p), _mapping(m)) for p, m in mappings)),
        principal_tags=tuple(sorted((p, m) for p, m in maps if not m.is_default)),
        tags=Tags.of(described.get("IdentityPoolTags") or {}),
    )


def _principal_tags(raw: Mapping[str, Any]) -> PrincipalTags:
    return PrincipalTags(bool(raw.get("UseDefaults")), Tags.of(raw.get("PrincipalTags") or {}))


def _client_key(client: UserPoolClient) -> tuple[str, str]:
    return (client.provider_name, client.client_id)
