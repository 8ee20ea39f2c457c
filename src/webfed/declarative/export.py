"""Writing a state in the configuration file format, so ``webfed export | webfed apply`` is a no-op.

Policy documents are written as YAML mappings, numbers exactly as IAM holds them; defaults
(path ``/``, no description, 3600 s, no tags) are left out, as :mod:`webfed.declarative.schema`
reads them back. A role names a customer managed policy of the account by name and anything
else by ARN. A provider's static key set is written inline (``static_keys``), as stored. An
identity pool is written with its id (so applying the export finds the same pool), its providers
as their URLs and its roles by name, when the provider or role is in the state (the name then
means the same ARN).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from webfed.declarative.model import (
    DEFAULT_MAX_SESSION_DURATION,
    IdentityPool,
    ManagedPolicy,
    PolicyDocument,
    Provider,
    Role,
    RoleMapping,
    State,
)
from webfed.declarative.schema import FORMAT_VERSION
from webfed.declarative.source import Dumper

__all__ = ["export_text", "state_to_document"]


def export_text(state: State) -> str:
    """The YAML text of a configuration file declaring ``state``."""
    header = f"# webfed configuration: IAM and identity pool state of account {state.account_id}\n"
    body = yaml.dump(
        state_to_document(state),
        Dumper=Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return header + body


def state_to_document(state: State) -> dict[str, Any]:
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    if state.providers:
        document["providers"] = [_provider(provider) for provider in state.providers]
    if state.policies:
        document["policies"] = [_policy(policy) for policy in state.policies]
    if state.roles:
        names = {policy.arn(state.account_id): policy.name for policy in state.policies}
        document["roles"] = [_role(role, names) for role in state.roles]
    if state.identity_pools:
        document["identity_pools"] = [_identity_pool(pool, state) for pool in state.identity_pools]
    return document


def _document(document: PolicyDocument) -> Any:
    """A YAML mapping, or the JSON text as a string when the document could not be parsed (apply
    then reports it with its line instead of export failing for the whole account)."""
    return document.value() if document.parsed else document.text


def _provider(provider: Provider) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": provider.url}
    if provider.client_ids:
        entry["client_ids"] = list(provider.client_ids)
    if provider.thumbprints:
        entry["thumbprints"] = list(provider.thumbprints)
    if provider.tags.items:
        entry["tags"] = provider.tags.as_dict()
    if provider.static_keys is not None:
        entry["static_keys"] = json.loads(provider.static_keys)
    return entry


def _policy(policy: ManagedPolicy) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": policy.name}
    if policy.path != "/":
        entry["path"] = policy.path
    if policy.description:
        entry["description"] = policy.description
    entry["document"] = _document(policy.document)
    if policy.tags.items:
        entry["tags"] = policy.tags.as_dict()
    return entry


def _role(role: Role, policy_names: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": role.name}
    if role.path != "/":
        entry["path"] = role.path
    if role.description:
        entry["description"] = role.description
    if role.max_session_duration != DEFAULT_MAX_SESSION_DURATION:
        entry["max_session_duration"] = role.max_session_duration
    entry["trust_policy"] = _document(role.trust_policy)
    if role.inline_policies:
        entry["inline_policies"] = {p.name: _document(p.document) for p in role.inline_policies}
    if role.managed_policies:
        entry["managed_policies"] = [policy_names.get(a, a) for a in role.managed_policies]
    if role.permissions_boundary is not None:
        boundary = role.permissions_boundary
        entry["permissions_boundary"] = policy_names.get(boundary, boundary)
    if role.tags.items:
        entry["tags"] = role.tags.as_dict()
    return entry


def _identity_pool(pool: IdentityPool, state: State) -> dict[str, Any]:
    roles = {role.arn(state.account_id): role.name for role in state.roles}
    urls = {provider.arn(state.account_id): provider.url for provider in state.providers}

    def role(arn: str) -> str:
        return roles.get(arn, arn)

    entry: dict[str, Any] = {"name": pool.name, "id": pool.pool_id}
    if pool.allow_unauthenticated:
        entry["allow_unauthenticated"] = True
    if pool.allow_classic_flow:
        entry["allow_classic_flow"] = True
    if pool.supported_login_providers.items:
        entry["supported_login_providers"] = pool.supported_login_providers.as_dict()
    if pool.openid_connect_providers:
        entry["openid_connect_providers"] = [urls.get(a, a) for a in pool.openid_connect_providers]
    if pool.cognito_identity_providers:
        entry["cognito_identity_providers"] = [
            {"provider_name": client.provider_name, "client_id": client.client_id}
            | ({"server_side_token_check": True} if client.server_side_token_check else {})
            for client in pool.cognito_identity_providers
        ]
    if pool.developer_provider_name is not None:
        entry["developer_provider_name"] = pool.developer_provider_name
    if pool.roles.items:
        entry["roles"] = {key: role(arn) for key, arn in pool.roles.items}
    if pool.role_mappings:
        entry["role_mappings"] = {
            provider: _role_mapping(mapping, role) for provider, mapping in pool.role_mappings
        }
    if pool.principal_tags:
        entry["principal_tags"] = {
            provider: {"use_defaults": tags.use_defaults, "tags": tags.tags.as_dict()}
            for provider, tags in pool.principal_tags
        }
    if pool.tags.items:
        entry["tags"] = pool.tags.as_dict()
    return entry


def _role_mapping(mapping: RoleMapping, role: Callable[[str], str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": mapping.type,
        "ambiguous_role_resolution": mapping.ambiguous_role_resolution,
    }
    if mapping.rules:
        entry["rules"] = [
            {"claim": r.claim, "match_type": r.match_type, "value": r.value, "role": role(r.role)}
            for r in mapping.rules
        ]
    return entry
