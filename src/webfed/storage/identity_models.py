"""Frozen values for Cognito-compatible identity pools and their identities.

Shapes follow the Cognito Identity API reference (``IdentityPool``, ``RoleMapping``,
``MappingRule``, ``CognitoIdentityProvider``, ``IdentityDescription``), as typed Python values so
that no caller walks raw dictionaries. The wire adapters turn them into AWS member names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

__all__ = [
    "CognitoProvider",
    "Identity",
    "IdentityPage",
    "IdentityPool",
    "IdentityPoolConfig",
    "MappingRule",
    "PoolPage",
    "PrincipalTagMap",
    "RoleMapping",
    "frozen_map",
]


def frozen_map(values: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only copy of ``values`` (an empty map for ``None``)."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class CognitoProvider:
    """One user-pool app client the pool trusts (``CognitoIdentityProvider``)."""

    provider_name: str
    client_id: str
    server_side_token_check: bool = False


@dataclass(frozen=True, slots=True)
class IdentityPoolConfig:
    """Everything ``CreateIdentityPool`` / ``UpdateIdentityPool`` set; defaults are AWS's."""

    name: str
    allow_unauthenticated: bool
    allow_classic_flow: bool = False
    supported_login_providers: Mapping[str, str] = field(default_factory=frozen_map)
    developer_provider_name: str | None = None
    open_id_connect_provider_arns: tuple[str, ...] = ()
    cognito_identity_providers: tuple[CognitoProvider, ...] = ()
    saml_provider_arns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MappingRule:
    """``MappingRule``: when ``claim`` matches ``value`` by ``match_type``, use ``role_arn``."""

    claim: str
    match_type: str  # Equals | Contains | StartsWith | NotEqual
    value: str
    role_arn: str


@dataclass(frozen=True, slots=True)
class RoleMapping:
    """``RoleMapping`` for one provider: ``Token`` or ordered ``Rules``."""

    type: str  # Token | Rules
    ambiguous_role_resolution: str | None = None  # AuthenticatedRole | Deny
    rules: tuple[MappingRule, ...] | None = None


@dataclass(frozen=True, slots=True)
class IdentityPool:
    pool_id: str
    account_id: str
    arn: str
    config: IdentityPoolConfig
    roles: Mapping[str, str]
    role_mappings: Mapping[str, RoleMapping]
    tags: Mapping[str, str]
    create_date: datetime
    update_date: datetime
    principal_tag_maps: Mapping[str, PrincipalTagMap] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PrincipalTagMap:
    """``SetPrincipalTagAttributeMap`` for one provider of one pool."""

    pool_id: str
    provider_name: str
    use_defaults: bool
    principal_tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Identity:
    """One identity; ``merged_into`` names the survivor once this one was merged (disabled)."""

    identity_id: str
    pool_id: str
    account_id: str
    logins: tuple[str, ...]  # provider names linked to it, sorted
    create_date: datetime
    last_modified_date: datetime
    merged_into: str | None = None
    # The ``login_key`` of every linked login (``identity_schema.login_key``): lets the flows
    # check that a login is this identity's without another query. Empty when not loaded.
    login_keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def disabled(self) -> bool:
        return self.merged_into is not None

    def has_login(self, key: str) -> bool:
        return key in self.login_keys


@dataclass(frozen=True, slots=True)
class PoolPage:
    pools: tuple[IdentityPool, ...]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class IdentityPage:
    identities: tuple[Identity, ...]
    next_after: str | None
