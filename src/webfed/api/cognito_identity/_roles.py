"""``SetIdentityPoolRoles`` inputs: the default roles and the role mappings.

API reference ``SetIdentityPoolRoles``, ``RoleMapping``, ``RulesConfigurationType`` and
``MappingRule``; developer guide "Role-based access control": at most 10 providers with a
mapping, at most 25 rules each (the model's 400 is not the service's limit), rules only with
``Type: Rules``, ``AmbiguousRoleResolution`` whenever a type is set, every role an IAM role of
the account, each mapping keyed by a provider the pool trusts.

The rules take the account id rather than a ``CallContext`` (:func:`roles_of`,
:func:`role_mappings_of`, :func:`role_mapping_of`, :func:`mapping_rule_of`), so ``webfed apply``
checks a configuration file with the same functions the API runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from webfed.api.cognito_identity._inputs import check_role_arn, provider_keys
from webfed.api.context import CallContext
from webfed.errors import InvalidParameterException
from webfed.storage.identity_models import (
    IdentityPool,
    IdentityPoolConfig,
    MappingRule,
    RoleMapping,
    frozen_map,
)

__all__ = [
    "MAX_ROLE_MAPPINGS",
    "MAX_RULES",
    "mapping_rule_of",
    "mappings_shape",
    "parse_role_mappings",
    "parse_roles",
    "role_mapping_of",
    "role_mappings_of",
    "roles_of",
]

MAX_ROLE_MAPPINGS = 10
MAX_RULES = 25
ROLE_KEYS = frozenset({"authenticated", "unauthenticated"})
MAPPING_TYPES = frozenset({"Token", "Rules"})
RESOLUTIONS = frozenset({"AuthenticatedRole", "Deny"})
MATCH_TYPES = frozenset({"Equals", "Contains", "StartsWith", "NotEqual"})


def _invalid(message: str) -> InvalidParameterException:
    return InvalidParameterException(message)


def parse_roles(ctx: CallContext, roles: Mapping[str, str]) -> Mapping[str, str]:
    return roles_of(ctx.account_id, roles)


def roles_of(account_id: str, roles: Mapping[str, str]) -> Mapping[str, str]:
    """``Roles``: ``authenticated`` / ``unauthenticated`` to role ARNs of ``account_id``."""
    for key, arn in roles.items():
        if key not in ROLE_KEYS:
            raise _invalid(f"Roles key {key!r} must be 'authenticated' or 'unauthenticated'.")
        check_role_arn(account_id, arn, f"Roles.{key}")
    return frozen_map(roles)


def mapping_rule_of(account_id: str, where: str, raw: Mapping[str, Any]) -> MappingRule:
    """One ``MappingRule``; ``where`` names it in the error (``RoleMappings[p]...Rules[0]``)."""
    match_type = raw.get("MatchType")
    if match_type not in MATCH_TYPES:
        raise _invalid(f"{where}.MatchType {match_type!r} must be one of {sorted(MATCH_TYPES)}.")
    for member in ("Claim", "Value", "RoleARN"):
        if not isinstance(raw.get(member), str) or not raw[member]:
            raise _invalid(f"{where}.{member} is required.")
    role = check_role_arn(account_id, str(raw["RoleARN"]), f"{where}.RoleARN")
    return MappingRule(str(raw["Claim"]), str(match_type), str(raw["Value"]), role)


def _rules(account_id: str, provider: str, raw: Mapping[str, Any]) -> tuple[MappingRule, ...]:
    where = f"RoleMappings[{provider}].RulesConfiguration"
    configuration = raw.get("RulesConfiguration")
    if not isinstance(configuration, Mapping) or not configuration.get("Rules"):
        raise _invalid(f"{where}.Rules is required (1 to {MAX_RULES} rules) for Type 'Rules'.")
    rules = cast(list[Mapping[str, Any]], configuration["Rules"])
    if len(rules) > MAX_RULES:
        raise _invalid(f"{where}.Rules holds {len(rules)} rules; at most {MAX_RULES} are allowed.")
    return tuple(
        mapping_rule_of(account_id, f"{where}.Rules[{index}]", rule)
        for index, rule in enumerate(rules)
    )


def role_mapping_of(account_id: str, provider: str, raw: Mapping[str, Any]) -> RoleMapping:
    """The ``RoleMapping`` of one provider (its key is checked by :func:`role_mappings_of`)."""
    where = f"RoleMappings[{provider}]"
    kind = raw.get("Type")
    if kind not in MAPPING_TYPES:
        raise _invalid(f"{where}.Type {kind!r} must be 'Token' or 'Rules'.")
    resolution = raw.get("AmbiguousRoleResolution")
    if resolution not in RESOLUTIONS:
        raise _invalid(
            f"{where}.AmbiguousRoleResolution is required with a Type and must be "
            "'AuthenticatedRole' or 'Deny'."
        )
    if kind == "Token":
        if raw.get("RulesConfiguration") is not None:
            raise _invalid(f"{where}.RulesConfiguration is only allowed with Type 'Rules'.")
        return RoleMapping("Token", str(resolution), None)
    return RoleMapping("Rules", str(resolution), _rules(account_id, provider, raw))


def parse_role_mappings(
    ctx: CallContext, pool: IdentityPool, raw: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, RoleMapping]:
    return role_mappings_of(ctx.account_id, pool.pool_id, pool.config, raw)


def role_mappings_of(
    account_id: str,
    pool_id: str,
    config: IdentityPoolConfig,
    raw: Mapping[str, Mapping[str, Any]],
) -> Mapping[str, RoleMapping]:
    """``RoleMappings``: at most 10, each keyed by a provider of the pool ``config`` describes."""
    if len(raw) > MAX_ROLE_MAPPINGS:
        raise _invalid(
            f"RoleMappings has {len(raw)} providers; at most {MAX_ROLE_MAPPINGS} are allowed."
        )
    known = provider_keys(config)
    for provider in raw:
        if provider not in known:
            raise _invalid(
                f"RoleMappings key {provider!r} is not a provider of identity pool "
                f"{pool_id}; configured: {', '.join(sorted(known)) or 'none'}."
            )
    return {
        provider: role_mapping_of(account_id, provider, value) for provider, value in raw.items()
    }


def _mapping_shape(mapping: RoleMapping) -> dict[str, Any]:
    shape: dict[str, Any] = {"Type": mapping.type}
    if mapping.ambiguous_role_resolution is not None:
        shape["AmbiguousRoleResolution"] = mapping.ambiguous_role_resolution
    if mapping.rules is not None:
        shape["RulesConfiguration"] = {
            "Rules": [
                {
                    "Claim": rule.claim,
                    "MatchType": rule.match_type,
                    "Value": rule.value,
                    "RoleARN": rule.role_arn,
                }
                for rule in mapping.rules
            ]
        }
    return shape


def mappings_shape(mappings: Mapping[str, RoleMapping]) -> dict[str, Any]:
    return {provider: _mapping_shape(mapping) for provider, mapping in mappings.items()}
