"""Whole-file checks that need more than one field: duplicates, references, policy documents.

Everything here runs before any change is made, against the file and the current state, so a
file with any problem changes nothing. The rules come from IAM:

* role and managed policy names are unique case-insensitively, provider URLs exactly; a managed
  policy the file names in another case than IAM holds it is that policy, under IAM's spelling
  (IAM cannot rename one), with a warning;
* a role may attach at most 10 managed policies (IAM's default quota) and refer to a managed
  policy by name (defined in the file or existing) or by ARN (existing or defined in the file);
* an OpenID Connect provider named in a trust policy's ``Federated`` principal must be in this
  account; one that is neither declared in the file nor in IAM is only a warning
  (:func:`reference_warnings`), because IAM accepts such a trust policy and keeps roles whose
  provider was deleted;
* every policy document is parsed by the policy engine with its kind (trust, identity or
  boundary) and measured as IAM measures it (whitespace not counted): trust policies against
  the configured quota, managed policies against 6,144 characters, a role's inline policies
  together against 10,240;
* a path is part of an ARN, so the path of an existing role or policy cannot change;
* identity pools follow the Cognito Identity API's rules
  (:mod:`webfed.declarative.pool_checks`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from webfed.core.entities import fold_case
from webfed.core.policy import (
    INLINE_ROLE_AGGREGATE_LIMIT,
    MANAGED_POLICY_LIMIT,
    PolicyKind,
    parse_policy,
    policy_size,
)
from webfed.declarative.model import ManagedPolicy, PolicyDocument, Provider, Role, State
from webfed.declarative.pool_checks import resolve_identity_pools
from webfed.declarative.schema import Config
from webfed.declarative.source import Json, Problem
from webfed.errors import MalformedPolicyDocument

__all__ = [
    "MAX_ATTACHED_POLICIES",
    "Limits",
    "federated_principals",
    "reference_warnings",
    "resolve",
]

MAX_ATTACHED_POLICIES = 10


@dataclass(frozen=True, slots=True)
class Limits:
    """What the checks depend on from the server's settings."""

    account_id: str
    allow_http_issuers: bool = False
    trust_policy_max_size: int = 2048
    region: str = "us-east-1"


def resolve(config: Config, current: State, limits: Limits) -> tuple[State | None, list[Problem]]:
    """Check the file against itself and the current state; the desired state, with every
    policy reference turned into an ARN, or ``None`` and the problems."""
    config = _with_iam_spellings(config, current)
    problems = [
        *_duplicates(config),
        *_provider_problems(config, limits),
        *_document_problems(config, limits),
        *_path_problems(config, current),
    ]
    roles: list[Role] = []
    for index, role in enumerate(config.roles):
        resolved = _resolve_role(config, current, limits.account_id, index, problems)
        roles.append(resolved if resolved is not None else role)
    problems.extend(_federated_problems(config, limits.account_id))
    pools, pool_problems = resolve_identity_pools(config, current, limits.account_id, limits.region)
    problems.extend(pool_problems)
    if problems:
        return None, problems
    state = State(limits.account_id, config.providers, config.policies, tuple(roles), pools)
    return state, []


def _with_iam_spellings(config: Config, current: State) -> Config:
    """The file with each managed policy that IAM holds under another letter case renamed to
    IAM's spelling, so its ARN and every reference to it are IAM's."""
    policies = []
    for declared in config.policies:
        existing = current.policy(declared.name)
        iam_name = declared.name if existing is None else existing.name
        policies.append(dataclasses.replace(declared, name=iam_name))
    return dataclasses.replace(config, policies=tuple(policies))


def _problem(config: Config, where: str, message: str) -> Problem:
    return Problem(message, config.line(where), where)


def _duplicates(config: Config) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    groups = (
        ("providers", [_provider_key(p) for p in config.providers], "provider URL"),
        ("policies", [fold_case(p.name) for p in config.policies], "policy name (ignoring case)"),
        ("roles", [fold_case(r.name) for r in config.roles], "role name (ignoring case)"),
    )
    for section, keys, what in groups:
        seen.clear()
        for index, key in enumerate(keys):
            where = f"{section}[{index}]"
            if key in seen:
                yield _problem(config, where, f"duplicate {what}: also declared at {seen[key]}")
            else:
                seen[key] = where
    for index, role in enumerate(config.roles):
        attached = role.managed_policies
        for position, reference in enumerate(attached):
            if reference in attached[:position]:
                where = f"roles[{index}].managed_policies[{position}]"
                yield _problem(config, where, f"policy {reference!r} is attached twice")


def _provider_key(provider: Provider) -> str:
    """Providers are the same when their ARNs are: the URL without its scheme."""
    return provider.arn("")


def _provider_problems(config: Config, limits: Limits) -> Iterator[Problem]:
    for index, provider in enumerate(config.providers):
        message = _url_problem(provider.url, limits.allow_http_issuers)
        if message is not None:
            yield _problem(config, f"providers[{index}].url", message)


def _url_problem(url: str, allow_http: bool) -> str | None:
    """IAM wants an ``https://`` URL with a host and no query or fragment."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        hint = "" if allow_http else " (http:// only with --allow-http-issuers)"
        return f"must start with https://{hint}"
    if not parts.hostname:
        return "must name a host"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "must not contain a query or a fragment"
    return None


def _document_problems(config: Config, limits: Limits) -> Iterator[Problem]:
    boundaries = {role.permissions_boundary for role in config.roles}
    boundary_names = {fold_case(reference) for reference in boundaries if reference is not None}
    for index, policy in enumerate(config.policies):
        where = f"policies[{index}].document"
        yield from _parse(config, where, policy.document, PolicyKind.IDENTITY, policy.name)
        if fold_case(policy.name) in boundary_names or _is_arn_of(
            policy, boundaries, limits.account_id
        ):
            yield from _parse(config, where, policy.document, PolicyKind.BOUNDARY, policy.name)
        yield from _size(config, where, policy_size(policy.document.text), MANAGED_POLICY_LIMIT)
    for index, role in enumerate(config.roles):
        where = f"roles[{index}]"
        trust = role.trust_policy
        yield from _parse(config, f"{where}.trust_policy", trust, PolicyKind.TRUST, role.name)
        size = policy_size(trust.text)
        yield from _size(config, f"{where}.trust_policy", size, limits.trust_policy_max_size)
        total = 0
        for inline in role.inline_policies:
            location = f"{where}.inline_policies.{inline.name}"
            yield from _parse(config, location, inline.document, PolicyKind.IDENTITY, inline.name)
            total += policy_size(inline.document.text)
        yield from _size(config, f"{where}.inline_policies", total, INLINE_ROLE_AGGREGATE_LIMIT)


def _is_arn_of(policy: ManagedPolicy, references: set[str | None], account_id: str) -> bool:
    return policy.arn(account_id) in references


def _parse(
    config: Config, where: str, document: PolicyDocument, kind: PolicyKind, name: str
) -> Iterator[Problem]:
    try:
        parse_policy(document.text, kind, name=name)
    except MalformedPolicyDocument as error:
        yield _problem(config, where, f"malformed {kind.name.lower()} policy: {error.message}")


def _size(config: Config, where: str, size: int, limit: int) -> Iterator[Problem]:
    if size > limit:
        message = f"is {size} characters (whitespace not counted); the limit is {limit}"
        yield _problem(config, where, message)


def _path_problems(config: Config, current: State) -> Iterator[Problem]:
    for index, role in enumerate(config.roles):
        existing = current.role(role.name)
        if existing is not None and existing.path != role.path:
            message = f"role {existing.name} has path {existing.path}; a role's path cannot change"
            yield _problem(config, f"roles[{index}].path", message)
    for index, policy in enumerate(config.policies):
        found = current.policy(policy.name)
        if found is not None and found.path != policy.path:
            message = (
                f"managed policy {found.name} has path {found.path}; a policy's path cannot change"
            )
            yield _problem(config, f"policies[{index}].path", message)


def _resolve_role(
    config: Config, current: State, account_id: str, index: int, problems: list[Problem]
) -> Role | None:
    where = f"roles[{index}]"
    role = config.roles[index]
    arns: list[str] = []
    for position, reference in enumerate(role.managed_policies):
        arn = _policy_arn(config, current, account_id, reference)
        if arn is None:
            location = f"{where}.managed_policies[{position}]"
            problems.append(_problem(config, location, _unknown_policy(reference)))
        arns.append(arn or reference)
    if len(arns) > MAX_ATTACHED_POLICIES:
        message = f"attaches {len(arns)} managed policies; IAM allows {MAX_ATTACHED_POLICIES}"
        problems.append(_problem(config, f"{where}.managed_policies", message))
    boundary = role.permissions_boundary
    if boundary is not None:
        boundary_arn = _policy_arn(config, current, account_id, boundary)
        if boundary_arn is None:
            location = f"{where}.permissions_boundary"
            problems.append(_problem(config, location, _unknown_policy(boundary)))
        boundary = boundary_arn
    return dataclasses.replace(role, managed_policies=tuple(arns), permissions_boundary=boundary)


def _unknown_policy(reference: str) -> str:
    return f"no managed policy {reference!r} in this file or in IAM"


def _policy_arn(config: Config, current: State, account_id: str, reference: str) -> str | None:
    """The ARN of the managed policy a role names, by name or ARN, in the file or in IAM."""
    declared = {policy.arn(account_id): policy for policy in config.policies}
    if reference.startswith("arn:"):
        if reference in declared or current.policy_by_arn(reference) is not None:
            return reference
        return None
    folded = fold_case(reference)
    for policy in config.policies:
        if fold_case(policy.name) == folded:
            return policy.arn(account_id)
    existing = current.policy(reference)
    return existing.arn(account_id) if existing is not None else None


def _federated_principals_of_roles(config: Config) -> Iterator[tuple[str, str]]:
    """(where, principal) for every OpenID Connect provider ARN a trust policy names."""
    for index, role in enumerate(config.roles):
        for principal in federated_principals(role.trust_policy.value()):
            if ":oidc-provider/" in principal:
                yield f"roles[{index}].trust_policy", principal


def _federated_problems(config: Config, account_id: str) -> Iterator[Problem]:
    for where, principal in _federated_principals_of_roles(config):
        if principal.split(":")[4:5] != [account_id]:
            yield _problem(config, where, f"{principal} is not in account {account_id}")


def reference_warnings(config: Config, current: State, limits: Limits) -> list[Problem]:
    """What is allowed but probably unintended: a managed policy named in another letter case
    than IAM holds it, and a trust policy naming a provider of this account that neither the
    file nor IAM holds (the role cannot be assumed until it exists)."""
    declared = {provider.arn(limits.account_id) for provider in config.providers}
    warnings = []
    for index, policy in enumerate(config.policies):
        existing = current.policy(policy.name)
        if existing is not None and existing.name != policy.name:
            message = (
                f"managed policy {policy.name} is named {existing.name} in IAM, which cannot "
                f"rename a policy; keeping {existing.name}"
            )
            warnings.append(_problem(config, f"policies[{index}].name", message))
    for where, principal in _federated_principals_of_roles(config):
        in_account = principal.split(":")[4:5] == [limits.account_id]
        if in_account and principal not in declared and current.provider(principal) is None:
            message = (
                f"no OpenID Connect provider {principal} in this file or in IAM; "
                "the role cannot be assumed with it until it exists"
            )
            warnings.append(_problem(config, where, message))
    return warnings


def federated_principals(document: Json) -> Iterator[str]:
    """Every ``Principal.Federated`` value of a policy document, as written."""
    if not isinstance(document, dict):
        return
    statements = document.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        federated = principal.get("Federated") if isinstance(principal, dict) else None
        values = federated if isinstance(federated, list) else [federated]
        yield from (value for value in values if isinstance(value, str))
