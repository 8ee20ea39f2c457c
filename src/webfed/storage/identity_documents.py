"""The JSON documents an ``identity_pools`` row holds, to and from the frozen values.

Only these two functions per document know the stored layout, so a reader never walks a raw
dictionary. Keys are webfed's own (snake case), not the wire's member names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from webfed.storage.identity_models import (
    CognitoProvider,
    IdentityPoolConfig,
    MappingRule,
    RoleMapping,
    frozen_map,
)

__all__ = [
    "config_from_document",
    "config_to_document",
    "mappings_from_document",
    "mappings_to_document",
]

Document = dict[str, object]


def config_to_document(config: IdentityPoolConfig) -> Document:
    return {
        "allow_unauthenticated": config.allow_unauthenticated,
        "allow_classic_flow": config.allow_classic_flow,
        "supported_login_providers": dict(config.supported_login_providers),
        "developer_provider_name": config.developer_provider_name,
        "open_id_connect_provider_arns": list(config.open_id_connect_provider_arns),
        "cognito_identity_providers": [
            [item.provider_name, item.client_id, item.server_side_token_check]
            for item in config.cognito_identity_providers
        ],
        "saml_provider_arns": list(config.saml_provider_arns),
    }


def config_from_document(name: str, document: Mapping[str, object]) -> IdentityPoolConfig:
    providers = cast(list[list[object]], document["cognito_identity_providers"])
    developer = document["developer_provider_name"]
    return IdentityPoolConfig(
        name=name,
        allow_unauthenticated=bool(document["allow_unauthenticated"]),
        allow_classic_flow=bool(document["allow_classic_flow"]),
        supported_login_providers=frozen_map(
            cast(dict[str, str], document["supported_login_providers"])
        ),
        developer_provider_name=None if developer is None else str(developer),
        open_id_connect_provider_arns=tuple(
            cast(list[str], document["open_id_connect_provider_arns"])
        ),
        cognito_identity_providers=tuple(
            CognitoProvider(str(item[0]), str(item[1]), bool(item[2])) for item in providers
        ),
        saml_provider_arns=tuple(cast(list[str], document["saml_provider_arns"])),
    )


def _mapping_to_document(mapping: RoleMapping) -> Document:
    rules = None
    if mapping.rules is not None:
        rules = [[r.claim, r.match_type, r.value, r.role_arn] for r in mapping.rules]
    return {
        "type": mapping.type,
        "ambiguous_role_resolution": mapping.ambiguous_role_resolution,
        "rules": rules,
    }


def mappings_to_document(mappings: Mapping[str, RoleMapping]) -> Document:
    return {provider: _mapping_to_document(mapping) for provider, mapping in mappings.items()}


def _mapping_from_document(document: Mapping[str, object]) -> RoleMapping:
    stored_rules = cast(list[list[str]] | None, document["rules"])
    resolution = document["ambiguous_role_resolution"]
    return RoleMapping(
        type=str(document["type"]),
        ambiguous_role_resolution=None if resolution is None else str(resolution),
        rules=None
        if stored_rules is None
        else tuple(MappingRule(*(str(part) for part in rule)) for rule in stored_rules),
    )


def mappings_from_document(document: Mapping[str, object]) -> Mapping[str, RoleMapping]:
    return {
        provider: _mapping_from_document(cast(Mapping[str, object], value))
        for provider, value in document.items()
    }
