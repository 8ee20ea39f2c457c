"""Per-node cache of the IAM objects the hot paths read: roles, providers, parsed policies.

Token exchange and request authorization must not read the database per request. Entries live
until the account's IAM revision changes (every IAM write bumps it in the same transaction);
the runtime polls the revision every second and writes made through this node invalidate at
once, so a change made on any node takes effect everywhere within about a second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from webfed.core.entities import OidcProvider, Role
from webfed.core.identifiers import parse_policy_arn
from webfed.core.policy import Policy, PolicyKind, parse_policy
from webfed.errors import InvalidInput, NoSuchEntity
from webfed.storage import Store

__all__ = ["IamCache", "RolePolicies"]


@dataclass(frozen=True, slots=True)
class RolePolicies:
    """A role's identity policies (inline and attached managed) and its boundary, parsed."""

    role: Role
    identity: tuple[Policy, ...]
    boundary: Policy | None


_T = TypeVar("_T")
MAX_ENTRIES = 10_000  # per table; names come from requests, so the tables must stay bounded


class IamCache:
    """Cached lookups; a load that raced with an invalidation is returned but not kept."""

    def __init__(self, store: Store, account_id: str) -> None:
        self._store = store
        self._account_id = account_id
        self._revision: int | None = None
        self._generation = 0
        self._roles: dict[str, Role | None] = {}
        self._providers: dict[str, OidcProvider | None] = {}
        self._policies: dict[str, RolePolicies | None] = {}
        self._managed: dict[str, Policy | None] = {}

    def invalidate(self) -> None:
        self._generation += 1
        self._roles.clear()
        self._providers.clear()
        self._policies.clear()
        self._managed.clear()

    async def refresh(self) -> bool:
        """Drop everything if the account's IAM revision moved; ``True`` when it did."""
        revision = await self._store.iam.revision(self._account_id)
        if revision == self._revision:
            return False
        self._revision = revision
        self.invalidate()
        return True

    async def _cached(
        self, table: dict[str, _T], key: str, load: Callable[[], Awaitable[_T]]
    ) -> _T:
        if key in table:
            return table[key]
        generation = self._generation
        value = await load()
        if generation == self._generation:  # no invalidation while loading: safe to keep
            if len(table) >= MAX_ENTRIES:
                del table[next(iter(table))]  # the oldest entry
            table[key] = value
        return value

    async def role(self, name: str) -> Role | None:
        return await self._cached(
            self._roles, name.lower(), lambda: self._store.iam.roles.find(self._account_id, name)
        )

    async def provider(self, resource: str) -> OidcProvider | None:
        """The IAM OIDC provider for an issuer URL without its scheme (``host/path``)."""
        return await self._cached(
            self._providers,
            resource,
            lambda: self._store.iam.providers.find(self._account_id, resource),
        )

    async def role_policies(self, name: str) -> RolePolicies | None:
        return await self._cached(
            self._policies, name.lower(), lambda: self._load_role_policies(name)
        )

    async def managed_policy(self, arn: str) -> Policy | None:
        """The default version of a managed policy of this account, parsed; ``None`` if absent."""
        return await self._cached(self._managed, arn, lambda: self._load_managed(arn))

    async def _load_role_policies(self, name: str) -> RolePolicies | None:
        try:
            found = await self._store.iam.attachments.permissions(self._account_id, name)
        except NoSuchEntity:
            return None
        identity = [
            parse_policy(document, PolicyKind.IDENTITY, name=f"{found.role.name}/{policy_name}")
            for policy_name, document in found.inline
        ]
        identity += [
            parse_policy(document, PolicyKind.IDENTITY, name=policy_name)
            for policy_name, document in found.managed
        ]
        boundary = None
        if found.boundary is not None:
            boundary = parse_policy(found.boundary, PolicyKind.BOUNDARY, name="boundary")
        return RolePolicies(found.role, tuple(identity), boundary)

    async def _load_managed(self, arn: str) -> Policy | None:
        try:
            parsed = parse_policy_arn(arn)
        except InvalidInput:
            return None
        if parsed.account_id != self._account_id:
            return None
        try:
            version = await self._store.iam.policies.default_version(self._account_id, arn)
        except NoSuchEntity:
            return None
        return parse_policy(version.document, PolicyKind.IDENTITY, name=arn)
