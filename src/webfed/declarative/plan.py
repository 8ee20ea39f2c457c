"""The planner: desired state and current state in, the ordered list of changes out. Pure.

Rules:

* An entity the file declares is declared completely: its attributes, inline policies,
  attachments, boundary, tags and client ids converge to the file (a missing optional field
  means its default: no description, no tags, 3600 s).
* An entity the file does not mention is left alone, unless ``prune`` is set; then it is deleted
  (roles after their inline policies and attachments, managed policies after their non-default
  versions, as IAM requires before ``DeleteRole`` and ``DeletePolicy``).
* A managed policy whose document changed gets a new default version (IAM
  ``CreatePolicyVersion``); when it already has the maximum of five versions, the oldest
  non-default version is deleted first.
* Changes run in dependency order (:class:`Step`): providers, managed policies, roles, inline
  policies, attachments, boundaries, tags, identity pools, then deletions.
* Identity pools match by id (:mod:`webfed.declarative.pool_checks` settles each entry's id).
  A pool's configuration, roles and role mappings, principal tag maps and tags converge to the
  file; a developer provider name cannot be removed, so one the file leaves out is kept, with
  a warning. Pruning deletes a pool with its identities, and never a provider a declared pool
  trusts.

Roles and managed policies match by name case-insensitively, as IAM names are unique that way;
tag keys of roles and policies compare with the same fold as storage
(:func:`webfed.core.entities.fold_case`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from webfed.core.entities import fold_case
from webfed.declarative.changes import (
    AddClientId,
    AttachPolicy,
    Change,
    CreateIdentityPool,
    CreatePolicy,
    CreatePolicyVersion,
    CreateProvider,
    CreateRole,
    DeleteBoundary,
    DeleteIdentityPool,
    DeleteInlinePolicy,
    DeletePolicy,
    DeletePolicyVersion,
    DeleteProvider,
    DeleteRole,
    DetachPolicy,
    PutBoundary,
    PutInlinePolicy,
    RemoveClientId,
    SetIdentityPoolRoles,
    SetPrincipalTags,
    SetStaticKeys,
    SetThumbprints,
    TagIdentityPool,
    TagPolicy,
    TagProvider,
    TagRole,
    UntagIdentityPool,
    UntagPolicy,
    UntagProvider,
    UntagRole,
    UpdateIdentityPool,
    UpdateRole,
    UpdateTrustPolicy,
)
from webfed.declarative.model import IdentityPool, ManagedPolicy, Provider, Role, State, Tags
from webfed.declarative.pool_wire import provider_names

__all__ = ["MAX_POLICY_VERSIONS", "Plan", "plan"]

MAX_POLICY_VERSIONS = 5


@dataclass(frozen=True, slots=True)
class Plan:
    """The changes to make, in execution order, and what cannot be changed in place."""

    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes


def plan(desired: State, current: State, *, prune: bool = False) -> Plan:
    """Compare ``desired`` (resolved: policy references are ARNs) with ``current``."""
    changes: list[Change] = []
    warnings: list[str] = []
    for provider in desired.providers:
        arn = provider.arn(desired.account_id)
        changes.extend(_provider_changes(provider, current.provider(arn), arn))
    for policy in desired.policies:
        existing = current.policy(policy.name)
        changes.extend(_policy_changes(policy, existing, current.account_id))
        if existing is not None and existing.description != policy.description:
            warnings.append(
                f"managed policy {policy.name}: IAM cannot change a policy's description; "
                "keeping the current one"
            )
    for role in desired.roles:
        changes.extend(_role_changes(role, current.role(role.name)))
    for pool in desired.identity_pools:
        stored = current.identity_pool(pool.pool_id)
        wanted, warning = _keeping_developer_provider(pool, stored)
        warnings.extend(warning)
        changes.extend(_pool_changes(wanted, stored, desired.account_id))
    if prune:
        changes.extend(_prune(desired, current))
    ordered = sorted(changes, key=lambda change: change.step)
    return Plan(tuple(ordered), tuple(warnings))


def _provider_changes(desired: Provider, existing: Provider | None, arn: str) -> Iterator[Change]:
    if existing is None:
        yield CreateProvider(desired)
        if desired.static_keys is not None:
            yield SetStaticKeys(arn, desired.static_keys, created=True)
        return
    for client_id in desired.client_ids:
        if client_id not in existing.client_ids:
            yield AddClientId(arn, client_id)
    for client_id in existing.client_ids:
        if client_id not in desired.client_ids:
            yield RemoveClientId(arn, client_id)
    if sorted(desired.thumbprints) != sorted(existing.thumbprints):
        yield SetThumbprints(arn, desired.thumbprints)
    if desired.static_keys != existing.static_keys:
        yield SetStaticKeys(arn, desired.static_keys, previous=existing.static_keys)
    yield from _tag_changes(desired.tags, existing.tags, arn, case_sensitive=True)


def _policy_changes(
    desired: ManagedPolicy, existing: ManagedPolicy | None, account_id: str
) -> Iterator[Change]:
    if existing is None:
        yield CreatePolicy(desired)
        return
    arn = existing.arn(account_id)
    if desired.document != existing.document:
        room = _version_to_delete(existing)
        yield CreatePolicyVersion(arn, desired.document, room, previous=existing.document)
    yield from _tag_changes(desired.tags, existing.tags, arn, case_sensitive=False)


def _version_to_delete(existing: ManagedPolicy) -> str | None:
    """The oldest non-default version, when the policy already holds the maximum."""
    if len(existing.version_ids) < MAX_POLICY_VERSIONS:
        return None
    others = [v for v in existing.version_ids if v != existing.default_version_id]
    return min(others, key=_version_number) if others else None


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else 0


def _role_changes(desired: Role, existing: Role | None) -> Iterator[Change]:
    if existing is None:
        yield CreateRole(desired)
        yield from _inline_changes(desired, None)
        for arn in desired.managed_policies:
            yield AttachPolicy(desired.name, arn)
        return
    name = existing.name
    if desired.trust_policy != existing.trust_policy:
        yield UpdateTrustPolicy(name, desired.trust_policy, previous=existing.trust_policy)
    if (desired.description, desired.max_session_duration) != (
        existing.description,
        existing.max_session_duration,
    ):
        yield UpdateRole(name, desired.description, desired.max_session_duration)
    yield from _inline_changes(desired, existing)
    yield from _attachment_changes(desired, existing)
    yield from _boundary_changes(desired, existing)
    yield from _tag_changes(desired.tags, existing.tags, name, case_sensitive=False, role=True)


def _inline_changes(desired: Role, existing: Role | None) -> Iterator[Change]:
    name = existing.name if existing is not None else desired.name
    current = existing.inline_by_name() if existing is not None else {}
    for policy in desired.inline_policies:
        previous = current.get(policy.name)
        if previous != policy.document:
            created = previous is None
            yield PutInlinePolicy(name, policy.name, policy.document, created, previous=previous)
    wanted = desired.inline_by_name()
    for policy_name in current:
        if policy_name not in wanted:
            yield DeleteInlinePolicy(name, policy_name)


def _attachment_changes(desired: Role, existing: Role) -> Iterator[Change]:
    for arn in desired.managed_policies:
        if arn not in existing.managed_policies:
            yield AttachPolicy(existing.name, arn)
    for arn in existing.managed_policies:
        if arn not in desired.managed_policies:
            yield DetachPolicy(existing.name, arn)


def _boundary_changes(desired: Role, existing: Role) -> Iterator[Change]:
    if desired.permissions_boundary == existing.permissions_boundary:
        return
    if desired.permissions_boundary is None:
        yield DeleteBoundary(existing.name)
    else:
        yield PutBoundary(existing.name, desired.permissions_boundary)


def _tag_changes(
    desired: Tags, existing: Tags, subject: str, *, case_sensitive: bool, role: bool = False
) -> Iterator[Change]:
    """Tags to set and keys to remove; role and policy tag keys compare case-insensitively."""

    def fold(key: str) -> str:
        return key if case_sensitive else fold_case(key)

    current = {fold(key): value for key, value in existing.items}
    wanted = {fold(key) for key, _ in desired.items}
    to_set = Tags(tuple((k, v) for k, v in desired.items if current.get(fold(k)) != v))
    to_remove = tuple(key for key, _ in existing.items if fold(key) not in wanted)
    if role:
        yield from _role_tags(subject, to_set, to_remove)
    elif case_sensitive:
        yield from _provider_tags(subject, to_set, to_remove)
    else:
        yield from _policy_tags(subject, to_set, to_remove)


def _role_tags(name: str, to_set: Tags, to_remove: tuple[str, ...]) -> Iterator[Change]:
    if to_remove:
        yield UntagRole(name, to_remove)
    if to_set.items:
        yield TagRole(name, to_set)


def _provider_tags(arn: str, to_set: Tags, to_remove: tuple[str, ...]) -> Iterator[Change]:
    if to_remove:
        yield UntagProvider(arn, to_remove)
    if to_set.items:
        yield TagProvider(arn, to_set)


def _policy_tags(arn: str, to_set: Tags, to_remove: tuple[str, ...]) -> Iterator[Change]:
    if to_remove:
        yield UntagPolicy(arn, to_remove)
    if to_set.items:
        yield TagPolicy(arn, to_set)


def _keeping_developer_provider(
    desired: IdentityPool, stored: IdentityPool | None
) -> tuple[IdentityPool, list[str]]:
    """A developer provider name cannot be removed (identities' developer logins depend on
    it): a file leaving it out keeps it, with a warning, as the API keeps it."""
    kept = stored.developer_provider_name if stored is not None else None
    if stored is None or kept is None or desired.developer_provider_name is not None:
        return desired, []
    warning = (
        f"identity pool {stored.label()}: a developer provider name cannot be removed; "
        f"keeping {kept}"
    )
    return dataclasses.replace(desired, developer_provider_name=kept), [warning]


def _pool_changes(
    desired: IdentityPool, existing: IdentityPool | None, account_id: str
) -> Iterator[Change]:
    if existing is None:
        yield CreateIdentityPool(desired)
        if desired.roles.items or desired.role_mappings:
            yield SetIdentityPoolRoles(desired, created=True)
        for provider, tags in desired.principal_tags:
            yield SetPrincipalTags(desired.pool_id, provider, tags, created=True)
        return
    if desired.configuration() != existing.configuration():
        yield UpdateIdentityPool(desired, previous=existing)
    if (desired.roles, desired.role_mappings) != (existing.roles, existing.role_mappings):
        yield SetIdentityPoolRoles(desired)
    # Only a provider of the pool can have a map; one the update removes keeps its stale map,
    # which nothing reads (the API refuses to set a map for a provider the pool lacks).
    for provider in sorted(provider_names(desired)):
        wanted = desired.principal_tags_of(provider)
        if wanted != existing.principal_tags_of(provider):
            yield SetPrincipalTags(desired.pool_id, provider, wanted)
    arn = existing.arn(account_id)
    current = existing.tags.as_dict()
    to_remove = tuple(key for key, _ in existing.tags.items if key not in desired.tags.as_dict())
    to_set = Tags(tuple((k, v) for k, v in desired.tags.items if current.get(k) != v))
    if to_remove:
        yield UntagIdentityPool(arn, to_remove)
    if to_set.items:
        yield TagIdentityPool(arn, to_set)


def _prune(desired: State, current: State) -> Iterator[Change]:
    """Deletions for everything in ``current`` that ``desired`` does not declare."""
    for pool in current.identity_pools:
        if desired.identity_pool(pool.pool_id) is None:
            yield DeleteIdentityPool(pool.pool_id, pool.name)
    for role in current.roles:
        if desired.role(role.name) is None:
            for inline in role.inline_policies:
                yield DeleteInlinePolicy(role.name, inline.name)
            for arn in role.managed_policies:
                yield DetachPolicy(role.name, arn)
            yield DeleteRole(role.name)
    still_used = _referenced_policy_arns(desired)
    for policy in current.policies:
        arn = policy.arn(current.account_id)
        if desired.policy(policy.name) is None and arn not in still_used:
            for version_id in policy.version_ids:
                if version_id != policy.default_version_id:
                    yield DeletePolicyVersion(arn, version_id)
            yield DeletePolicy(arn)
    trusted = {arn for pool in desired.identity_pools for arn in pool.openid_connect_providers}
    for provider in current.providers:
        arn = provider.arn(current.account_id)
        if desired.provider(arn) is None and arn not in trusted:
            yield DeleteProvider(arn)


def _referenced_policy_arns(state: State) -> set[str]:
    arns = {arn for role in state.roles for arn in role.managed_policies}
    arns.update(r.permissions_boundary for r in state.roles if r.permissions_boundary)
    return arns
