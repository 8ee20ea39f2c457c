"""Which role ``GetCredentialsForIdentity`` assumes (the enhanced flow's role selection).

Cognito developer guide, "Role-based access control":

* no login: the pool's ``unauthenticated`` role;
* logins, none of whose providers has a role mapping: the ``authenticated`` role;
* ``Type: Token``: the token's ``cognito:preferred_role`` claim, or the ``CustomRoleArn`` if it is
  one of the token's ``cognito:roles`` (a ``CustomRoleArn`` that is not is denied);
* ``Type: Rules``: the rules in order, the first that matches wins; a rule on an absent claim
  never matches (``NotEqual`` included); a ``CustomRoleArn`` may pick the role of any rule that
  matches;
* nothing decided: ``AmbiguousRoleResolution`` ``AuthenticatedRole`` (the default role) or
  ``Deny``.

Where AWS is silent webfed chooses the strict reading (written down in
``docs/identity-pools.md``): with several logins, the first login (in request order) whose
provider has a mapping decides; a ``CustomRoleArn`` outside a mapping must equal the role that
would be chosen anyway; claims that are arrays match a rule when any element does
(``NotEqual``: when no element equals the value); numbers and booleans compare as their JSON
text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webfed.api.cognito_identity.logins import VerifiedLogin
from webfed.core.oidc import JsonValue
from webfed.errors import InvalidIdentityPoolConfiguration, NotAuthorized
from webfed.storage.identity_models import IdentityPool, MappingRule, RoleMapping

__all__ = ["RoleChoice", "choose_role", "rule_matches"]

AUTHENTICATED = "authenticated"
UNAUTHENTICATED = "unauthenticated"
PREFERRED_ROLE_CLAIM = "cognito:preferred_role"
ROLES_CLAIM = "cognito:roles"


@dataclass(frozen=True, slots=True)
class RoleChoice:
    """The role and why it was chosen (the why goes into denials and the audit record)."""

    role_arn: str
    reason: str


def _no_role(pool: IdentityPool, kind: str) -> InvalidIdentityPoolConfiguration:
    return InvalidIdentityPoolConfiguration(
        f"Invalid identity pool configuration. Identity pool {pool.pool_id} has no {kind} role: "
        f"set Roles.{kind} with SetIdentityPoolRoles.",
        explanation={"check": "pool_roles", "pool": pool.pool_id, "missing": kind},
    )


def _default(pool: IdentityPool, kind: str, reason: str) -> RoleChoice:
    role = pool.roles.get(kind)
    if role is None:
        raise _no_role(pool, kind)
    return RoleChoice(role, reason)


def _texts(value: JsonValue) -> list[str] | None:
    """The claim as strings: a scalar is one, an array its scalar elements; objects none."""
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, tuple):
        return [text for item in value if (text := _scalar(item)) is not None]
    return [text] if (text := _scalar(value)) is not None else None


def _scalar(value: JsonValue) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def rule_matches(rule: MappingRule, claims: Mapping[str, JsonValue]) -> bool:
    """Whether ``rule`` matches the token's claims (an absent claim matches nothing)."""
    if rule.claim not in claims:
        return False
    texts = _texts(claims[rule.claim])
    if not texts:
        return False
    if rule.match_type == "Equals":
        return rule.value in texts
    if rule.match_type == "NotEqual":
        return rule.value not in texts
    if rule.match_type == "StartsWith":
        return any(text.startswith(rule.value) for text in texts)
    if rule.match_type == "Contains":
        return any(rule.value in text for text in texts)
    return False


def _denied(pool: IdentityPool, provider: str, reason: str) -> NotAuthorized:
    return NotAuthorized(
        f"Unable to determine a role for this identity. {reason}",
        explanation={"check": "role_mapping", "pool": pool.pool_id, "provider": provider},
    )


def _ambiguous(
    pool: IdentityPool, provider: str, mapping: RoleMapping, custom: str | None, why: str
) -> RoleChoice:
    if mapping.ambiguous_role_resolution == "AuthenticatedRole":
        choice = _default(pool, AUTHENTICATED, f"{why}; AmbiguousRoleResolution AuthenticatedRole")
        return _honour_custom(pool, provider, choice, custom)
    raise _denied(
        pool,
        provider,
        f"{why} for the {provider} login, and the role mapping's AmbiguousRoleResolution is Deny.",
    )


def _honour_custom(
    pool: IdentityPool, provider: str, choice: RoleChoice, custom: str | None
) -> RoleChoice:
    if custom is None or custom == choice.role_arn:
        return choice
    raise _denied(
        pool,
        provider,
        f"CustomRoleArn {custom} is not a role this login may choose ({choice.reason} gives "
        f"{choice.role_arn}).",
    )


def _by_token(
    pool: IdentityPool, login: VerifiedLogin, mapping: RoleMapping, custom: str | None
) -> RoleChoice:
    claims = login.claims
    roles = _texts(claims.get(ROLES_CLAIM))
    listed = [arn for text in roles or () for arn in text.split(",") if arn]
    if custom is not None:
        if custom in listed:
            return RoleChoice(custom, f"CustomRoleArn, one of the token's {ROLES_CLAIM}")
        raise _denied(
            pool,
            login.provider,
            f"CustomRoleArn {custom} is not among the token's {ROLES_CLAIM}.",
        )
    preferred = _texts(claims.get(PREFERRED_ROLE_CLAIM))
    if preferred and len(preferred) == 1:
        return RoleChoice(preferred[0], f"the token's {PREFERRED_ROLE_CLAIM}")
    return _ambiguous(
        pool, login.provider, mapping, None, f"the token has no {PREFERRED_ROLE_CLAIM}"
    )


def _by_rules(
    pool: IdentityPool, login: VerifiedLogin, mapping: RoleMapping, custom: str | None
) -> RoleChoice:
    matched = [
        (index, rule)
        for index, rule in enumerate(mapping.rules or ())
        if rule_matches(rule, login.claims)
    ]
    if not matched:
        return _ambiguous(pool, login.provider, mapping, custom, "no role mapping rule matched")
    if custom is None:
        index, rule = matched[0]
        return RoleChoice(rule.role_arn, f"rule {index} of the {login.provider} role mapping")
    for index, rule in matched:
        if rule.role_arn == custom:
            return RoleChoice(custom, f"CustomRoleArn, role of matching rule {index}")
    raise _denied(
        pool,
        login.provider,
        f"CustomRoleArn {custom} is not the role of any rule that matched the {login.provider} "
        "login.",
    )


def _mapping_for(pool: IdentityPool, login: VerifiedLogin) -> RoleMapping | None:
    """The login's role mapping: keyed by its provider, by ``provider:client id`` (user pools),
    or, for a token of webfed's issuer, by a provider it was minted for (developer logins)."""
    keys = [login.provider, f"{login.provider}:{login.token.audience}"]
    if login.is_identity_token:
        keys.extend(login.token.amr[1:])
    for key in keys:
        mapping = pool.role_mappings.get(key)
        if mapping is not None:
            return mapping
    return None


def choose_role(
    pool: IdentityPool, logins: Sequence[VerifiedLogin], custom_role_arn: str | None
) -> RoleChoice:
    """The role for an identity with ``logins`` (none: a guest)."""
    if not logins:
        choice = _default(pool, UNAUTHENTICATED, "the pool's unauthenticated role")
        return _honour_custom(pool, "(none)", choice, custom_role_arn)
    for login in logins:
        mapping = _mapping_for(pool, login)
        if mapping is None:
            continue
        if mapping.type == "Token":
            return _by_token(pool, login, mapping, custom_role_arn)
        return _by_rules(pool, login, mapping, custom_role_arn)
    choice = _default(pool, AUTHENTICATED, "the pool's authenticated role")
    return _honour_custom(pool, logins[0].provider, choice, custom_role_arn)
