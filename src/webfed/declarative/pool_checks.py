"""The ``identity_pools:`` of a file against itself and the current state: ids, references and
every rule of the Cognito Identity API, each problem with its line.

The rules are the API's, not copies: each pool is turned into the requests apply would send
(:mod:`webfed.declarative.pool_wire`), which are checked against botocore's
``cognito-identity`` model (lengths, patterns, map sizes) and by the functions the API handlers
call (:mod:`webfed.api.cognito_identity._inputs`, ``_roles``). What the API checks against the
store is checked against the file and the current state instead: an OpenID Connect provider a
pool names must be declared in the file or held by IAM, and a developer provider name, once
set, cannot change.

Which stored pool an entry means:

* ``id`` given: that pool; when no pool has it, it is created with that id, which must be
  ``REGION:UUID`` in the configured region;
* no ``id``: the one pool of the account with that name (not claimed by another entry's
  ``id``); several is a problem (add ``id``); none means a new pool, whose id is derived from
  the account, region and name, so two nodes applying the same file at once pick the same id
  and the second one finds the first one's pool instead of making a duplicate.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from webfed.api.cognito_identity._inputs import (
    developer_provider,
    login_providers,
    oidc_provider_arns,
    principal_tag_map_of,
    tags_from,
    unknown_oidc_provider,
    user_pool_providers,
)
from webfed.api.cognito_identity._roles import MAX_ROLE_MAPPINGS, role_mappings_of, roles_of
from webfed.core.entities import fold_case
from webfed.declarative.model import (
    IdentityPool,
    RoleMapping,
    State,
    Tags,
    provider_arn,
)
from webfed.declarative.pool_operations import pool_id_problem
from webfed.declarative.pool_wire import (
    api_config,
    config_params,
    mapping_params,
    principal_tag_params,
    roles_params,
)
from webfed.declarative.schema import Config
from webfed.declarative.source import Problem
from webfed.errors import InvalidParameterException
from webfed.protocol.models import load_service
from webfed.protocol.validate import validate
from webfed.storage.identity_models import IdentityPoolConfig
from webfed.storage.identity_pools import kept_developer_provider

__all__ = ["derived_pool_id", "resolve_identity_pools"]

# botocore's member labels of the requests, and the file keys they come from.
_CONFIG_KEYS = {
    "identityPoolName": "name",
    "allowUnauthenticatedIdentities": "allow_unauthenticated",
    "allowClassicFlow": "allow_classic_flow",
    "supportedLoginProviders": "supported_login_providers",
    "developerProviderName": "developer_provider_name",
    "openIdConnectProviderARNs": "openid_connect_providers",
    "cognitoIdentityProviders": "cognito_identity_providers",
    "identityPoolTags": "tags",
    "roles": "roles",
    "roleMappings": "role_mappings",
}


@dataclass(frozen=True, slots=True)
class _Context:
    config: Config
    current: State
    account_id: str
    region: str
    declared_providers: frozenset[str]

    def problem(self, where: str, message: str) -> Problem:
        return Problem(message, self.line(where), where)

    def line(self, where: str) -> int | None:
        """The line of ``where``, or of the nearest enclosing location the file has."""
        while where:
            line = self.config.line(where)
            if line is not None:
                return line
            where = where.rpartition(".")[0] if "." in where else ""
        return None


def resolve_identity_pools(
    config: Config, current: State, account_id: str, region: str
) -> tuple[tuple[IdentityPool, ...], list[Problem]]:
    """The pools the file declares with ids and ARNs resolved, or the problems found."""
    context = _Context(
        config,
        current,
        account_id,
        region,
        frozenset(provider.arn(account_id) for provider in config.providers),
    )
    problems = list(_duplicates(context))
    ids = _pool_ids(context, problems)
    pools = []
    for index, declared in enumerate(config.identity_pools):
        where = f"identity_pools[{index}]"
        resolved = _resolve(context, where, replace(declared, pool_id=ids.get(index, "")), problems)
        pools.append(resolved)
    if problems:
        return (), problems
    return tuple(pools), []


def _duplicates(context: _Context) -> Iterator[Problem]:
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    for index, pool in enumerate(context.config.identity_pools):
        where = f"identity_pools[{index}]"
        seen, key = (ids, pool.pool_id) if pool.pool_id else (names, pool.name)
        if key in seen:
            what = "identity pool id" if pool.pool_id else "identity pool name without an id"
            yield context.problem(where, f"duplicate {what}: also declared at {seen[key]}")
        else:
            seen[key] = where


def derived_pool_id(account_id: str, region: str, name: str, attempt: int = 0) -> str:
    """The id a new pool without a fixed id gets: ``REGION:UUID``, the UUID (version 4 form)
    taken from a SHA-256 of the account, region, name and ``attempt``.

    Pool ids are public (apps embed them), so deriving one hides nothing; it makes every node
    that applies the file choose the same id for the same new pool.
    """
    seed = "\x00".join((account_id, region, name, str(attempt))).encode("utf-8")
    digest = hashlib.sha256(seed).digest()
    return f"{region}:{uuid.UUID(bytes=digest[:16], version=4)}"


def _pool_ids(context: _Context, problems: list[Problem]) -> dict[int, str]:
    """Each entry's pool id (entries whose id cannot be settled are left out, with a problem)."""
    declared = context.config.identity_pools
    claimed = {pool.pool_id for pool in declared if pool.pool_id}
    taken = claimed | {pool.pool_id for pool in context.current.identity_pools}
    ids: dict[int, str] = {}
    for index, pool in enumerate(declared):
        where = f"identity_pools[{index}]"
        if pool.pool_id:
            stored = context.current.identity_pool(pool.pool_id)
            problem = None if stored else pool_id_problem(pool.pool_id, context.region)
            if problem is not None:
                problems.append(context.problem(f"{where}.id", problem))
                continue
            ids[index] = pool.pool_id
            continue
        named = [
            stored.pool_id
            for stored in context.current.identity_pools
            if stored.name == pool.name and stored.pool_id not in claimed
        ]
        if len(named) > 1:
            listed = ", ".join(sorted(named))
            message = (
                f"{len(named)} identity pools are named {pool.name!r} ({listed}); "
                "add 'id:' to say which one this is"
            )
            problems.append(context.problem(where, message))
            continue
        if named:
            ids[index] = named[0]
            continue
        ids[index] = _new_pool_id(context, pool.name, taken)
        taken.add(ids[index])
    return ids


def _new_pool_id(context: _Context, name: str, taken: set[str]) -> str:
    attempt = 0
    while True:
        pool_id = derived_pool_id(context.account_id, context.region, name, attempt)
        if pool_id not in taken:
            return pool_id
        attempt += 1


def _resolve(
    context: _Context, where: str, pool: IdentityPool, problems: list[Problem]
) -> IdentityPool:
    before = len(problems)
    oidc = tuple(
        sorted(
            _provider_arn(context, f"{where}.openid_connect_providers[{index}]", ref, problems)
            for index, ref in enumerate(pool.openid_connect_providers)
        )
    )
    roles = Tags.of(
        {
            key: _role_arn(context, f"{where}.roles.{key}", ref, problems)
            for key, ref in pool.roles.items
        }
    )
    mappings = tuple(
        (provider, _mapping_roles(context, f"{where}.role_mappings.{provider}", m, problems))
        for provider, m in pool.role_mappings
    )
    clients = tuple(
        sorted(pool.cognito_identity_providers, key=lambda c: (c.provider_name, c.client_id))
    )
    resolved = replace(
        pool,
        openid_connect_providers=oidc,
        cognito_identity_providers=clients,
        roles=roles,
        role_mappings=mappings,
    )
    if len(problems) == before and resolved.pool_id:  # the API's checks need every reference
        problems.extend(_api_problems(context, where, resolved))
    kept = tuple((p, tags) for p, tags in resolved.principal_tags if not tags.is_default)
    return replace(resolved, principal_tags=kept)


def _provider_arn(context: _Context, where: str, reference: str, problems: list[Problem]) -> str:
    """A provider URL (with or without its scheme) or ARN, as the ARN; it must be declared in
    the file or held by IAM, as ``CreateIdentityPool`` requires."""
    arn = reference if reference.startswith("arn:") else provider_arn(context.account_id, reference)
    declared = arn in context.declared_providers or context.current.provider(arn) is not None
    if not declared and arn.startswith(f"arn:aws:iam::{context.account_id}:oidc-provider/"):
        message = f"no OpenID Connect provider {reference} in this file or in IAM"
        problems.append(context.problem(where, f"{message} ({unknown_oidc_provider(arn).message})"))
    return arn


def _role_arn(context: _Context, where: str, reference: str, problems: list[Problem]) -> str:
    """A role name (declared in the file or held by IAM) or ARN, as the ARN."""
    if reference.startswith("arn:"):
        return reference
    folded = fold_case(reference)
    for role in context.config.roles:
        if fold_case(role.name) == folded:
            return role.arn(context.account_id)
    existing = context.current.role(reference)
    if existing is not None:
        return existing.arn(context.account_id)
    problems.append(
        context.problem(
            where,
            f"no role {reference!r} in this file or in IAM "
            "(name a role that does not exist yet by its ARN)",
        )
    )
    return reference


def _mapping_roles(
    context: _Context, where: str, mapping: RoleMapping, problems: list[Problem]
) -> RoleMapping:
    rules = tuple(
        replace(rule, role=_role_arn(context, f"{where}.rules[{index}].role", rule.role, problems))
        for index, rule in enumerate(mapping.rules)
    )
    return replace(mapping, rules=rules)


def _api_problems(context: _Context, where: str, pool: IdentityPool) -> Iterator[Problem]:
    """Every rule ``CreateIdentityPool``/``UpdateIdentityPool``, ``SetIdentityPoolRoles`` and
    ``SetPrincipalTagAttributeMap`` would apply to this pool's requests."""
    service = load_service("cognito-identity")
    create = service.operations["CreateIdentityPool"]
    params = {**config_params(pool), "IdentityPoolTags": pool.tags.as_dict()}
    yield from _model_problems(context, where, create.input, params)
    yield from _config_problems(context, where, pool)
    set_roles = service.operations["SetIdentityPoolRoles"]
    yield from _model_problems(context, where, set_roles.input, roles_params(pool))
    yield from _roles_problems(context, where, pool)
    tag_map = service.operations["SetPrincipalTagAttributeMap"]
    for provider, tags in pool.principal_tags:
        at = f"{where}.principal_tags.{provider}"
        params = principal_tag_params(pool.pool_id, provider, tags)
        yield from _model_problems(context, at, tag_map.input, params)
        yield from _rule(
            context,
            at,
            principal_tag_map_of,
            pool.pool_id,
            api_config(pool),
            provider,
            tags.use_defaults,
            tags.tags.as_dict(),
        )


def _model_problems(
    context: _Context, where: str, shape: Any, params: Mapping[str, Any]
) -> Iterator[Problem]:
    for violation in validate(shape, params):
        label = violation.path.split(".", 1)[0]
        key = _CONFIG_KEYS.get(label)
        yield context.problem(f"{where}.{key}" if key else where, violation.render())


def _rule(
    context: _Context, where: str, check: Callable[..., object], *args: Any
) -> Iterator[Problem]:
    """The API's rule ``check`` applied to ``args``; its refusal as a problem at ``where``."""
    try:
        check(*args)
    except InvalidParameterException as error:
        yield context.problem(where, error.message)


def _config_problems(context: _Context, where: str, pool: IdentityPool) -> Iterator[Problem]:
    params = config_params(pool)
    for key, value in pool.supported_login_providers.items:
        at = f"{where}.supported_login_providers.{key}"
        yield from _rule(context, at, login_providers, {key: value})
    at = f"{where}.developer_provider_name"
    yield from _rule(context, at, developer_provider, pool.developer_provider_name)
    at = f"{where}.openid_connect_providers"
    yield from _rule(
        context, at, oidc_provider_arns, context.account_id, pool.openid_connect_providers
    )
    at = f"{where}.cognito_identity_providers"
    yield from _rule(context, at, user_pool_providers, params["CognitoIdentityProviders"])
    at = f"{where}.tags"
    yield from _rule(context, at, tags_from, pool.tags.as_dict(), "IdentityPoolTags")
    stored = context.current.identity_pool(pool.pool_id)
    if stored is not None:
        yield from _rule(
            context,
            at.replace(".tags", ".developer_provider_name"),
            kept_developer_provider,
            api_config(stored),
            api_config(pool),
        )


def _roles_problems(context: _Context, where: str, pool: IdentityPool) -> Iterator[Problem]:
    for key, arn in pool.roles.items:
        yield from _rule(context, f"{where}.roles.{key}", roles_of, context.account_id, {key: arn})
    config: IdentityPoolConfig = api_config(pool)
    if len(pool.role_mappings) > MAX_ROLE_MAPPINGS:
        every = {provider: mapping_params(m) for provider, m in pool.role_mappings}
        yield from _rule(
            context,
            f"{where}.role_mappings",
            role_mappings_of,
            context.account_id,
            pool.pool_id,
            config,
            every,
        )
        return
    for provider, mapping in pool.role_mappings:
        one = {provider: mapping_params(mapping)}
        yield from _rule(
            context,
            f"{where}.role_mappings.{provider}",
            role_mappings_of,
            context.account_id,
            pool.pool_id,
            config,
            one,
        )
