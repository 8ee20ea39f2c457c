"""Repository of customer managed policies and their versions.

Follows the IAM API reference pages ``CreatePolicy``, ``GetPolicy``, ``DeletePolicy``,
``ListPolicies`` and the ``*PolicyVersion`` operations. Policy names are unique per account
regardless of path and letter case (IAM User Guide, "IAM identifiers": names must be unique
within an account and are not distinguished by case); the database enforces it with a unique
index on ``lower(name)``. A policy holds at most 5 versions, numbered ``v1``, ``v2``, ... and
never reused; exactly one is the default (a partial unique index allows at most one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.core.entities import ManagedPolicy, Page, PolicyVersion, Tag
from webfed.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from webfed.storage.constraints import TAG_KEY_CONSTRAINTS, mapped_constraints
from webfed.storage.database import Database
from webfed.storage.lookups import find_policy, require_policy
from webfed.storage.pagination import decode_marker, page_of, sortable
from webfed.storage.policy_rows import policy_from_row, policy_query, version_from_row
from webfed.storage.schema import managed_policies, policy_tags, policy_versions
from webfed.storage.tags import insert_tags, load_tags

__all__ = ["MAX_POLICY_VERSIONS", "PolicyRepository", "PolicyScope", "PolicyUsage"]

MAX_POLICY_VERSIONS = 5
PolicyScope = str  # "All" | "AWS" | "Local", as the ListPolicies Scope enum spells them
PolicyUsage = str | None  # "PermissionsPolicy" | "PermissionsBoundary" | None


def _version_number(version_id: str) -> int | None:
    digits = version_id[1:]
    if version_id[:1] != "v" or not digits.isdigit() or digits.startswith("0"):
        return None
    return int(digits)


class PolicyRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        account_id: str,
        *,
        policy_id: str,
        name: str,
        path: str,
        description: str | None,
        document: str,
        tags: Sequence[Tag],
        now: datetime,
    ) -> ManagedPolicy:
        """Create a policy with ``v1`` as its default version."""

        def exists() -> EntityAlreadyExists:
            return EntityAlreadyExists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )

        same_name = sa.func.lower(managed_policies.c.name) == name.lower()
        known = {"uq_managed_policies_account_lower_name": exists, **TAG_KEY_CONSTRAINTS}
        with mapped_constraints(known):
            async with self._db.write(account_id) as connection:
                taken = sa.select(managed_policies.c.policy_id).where(
                    managed_policies.c.account_id == account_id, same_name
                )
                if (await connection.execute(taken)).first() is not None:
                    raise exists()
                await connection.execute(
                    sa.insert(managed_policies).values(
                        policy_id=policy_id,
                        account_id=account_id,
                        name=name,
                        path=path,
                        description=description,
                        next_version=2,
                        create_date=now,
                        update_date=now,
                    )
                )
                await self._insert_version(connection, policy_id, 1, document, True, now)
                await insert_tags(connection, policy_tags, policy_id, tags)
                # Read in the same transaction: a read after the commit could fail and turn
                # a done write into an error.
                return await _load_policy(connection, policy_id)

    async def _insert_version(
        self,
        connection: AsyncConnection,
        policy_id: str,
        number: int,
        document: str,
        is_default: bool,
        now: datetime,
    ) -> None:
        await connection.execute(
            sa.insert(policy_versions).values(
                policy_id=policy_id,
                number=number,
                document=document,
                is_default=is_default,
                create_date=now,
            )
        )

    async def _get_by_id(self, policy_id: str) -> ManagedPolicy:
        async with self._db.read() as connection:
            return await _load_policy(connection, policy_id)

    async def get(self, account_id: str, arn: str) -> ManagedPolicy:
        async with self._db.read() as connection:
            row = await require_policy(connection, account_id, arn)
        return await self._get_by_id(str(row.policy_id))

    async def find(self, account_id: str, arn: str) -> ManagedPolicy | None:
        async with self._db.read() as connection:
            row = await find_policy(connection, account_id, arn)
        return None if row is None else await self._get_by_id(str(row.policy_id))

    async def delete(self, account_id: str, arn: str) -> None:
        """Delete a policy that is unattached, no role's boundary, and down to one version."""
        async with self._db.write(account_id) as connection:
            row = await require_policy(connection, account_id, arn, lock=True)
            await self._check_deletable(connection, str(row.policy_id))
            await connection.execute(
                sa.delete(managed_policies).where(managed_policies.c.policy_id == row.policy_id)
            )

    async def _check_deletable(self, connection: AsyncConnection, policy_id: str) -> None:
        query = policy_query().where(managed_policies.c.policy_id == policy_id)
        row = (await connection.execute(query)).one()
        if row.attachment_count:
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if row.boundary_count:
            raise DeleteConflict("Cannot delete a policy used as a permissions boundary.")
        versions = sa.select(sa.func.count()).where(policy_versions.c.policy_id == policy_id)
        if (await connection.execute(versions)).scalar_one() > 1:
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )

    async def list(
        self,
        account_id: str,
        *,
        scope: PolicyScope = "All",
        only_attached: bool = False,
        path_prefix: str = "/",
        usage: PolicyUsage = None,
        marker: str | None = None,
        max_items: int = 100,
    ) -> Page[ManagedPolicy]:
        """Customer managed policies in name order; ``Scope=AWS`` is empty (none are served)."""
        after = decode_marker("policies", marker)
        if scope == "AWS":
            return Page(())
        async with self._db.read() as connection:
            listed = policy_query().where(
                managed_policies.c.account_id == account_id,
                managed_policies.c.path.startswith(path_prefix, autoescape=True),
            )
            subquery = listed.subquery()
            order = sortable(sa.func.lower(subquery.c.name), connection.dialect.name)
            query = sa.select(subquery).where(*self._filters(subquery, only_attached, usage))
            if after is not None:
                query = query.where(order > after)
            rows = (await connection.execute(query.order_by(order).limit(max_items + 1))).all()
            tags = await load_tags(connection, policy_tags, [row.policy_id for row in rows])
        found = [policy_from_row(row, tags[row.policy_id]) for row in rows]
        return page_of("policies", found, max_items, lambda policy: policy.name.lower())

    @staticmethod
    def _filters(
        subquery: sa.Subquery, only_attached: bool, usage: PolicyUsage
    ) -> tuple[sa.ColumnElement[bool], ...]:
        attached = only_attached or usage == "PermissionsPolicy"
        bounding = usage == "PermissionsBoundary"
        return (
            *([subquery.c.attachment_count > 0] if attached else []),
            *([subquery.c.boundary_count > 0] if bounding else []),
        )

    async def create_version(
        self, account_id: str, arn: str, document: str, *, set_as_default: bool, now: datetime
    ) -> PolicyVersion:
        """Add a version (at most 5 in all), optionally making it the default."""
        async with self._db.write(account_id) as connection:
            row = await require_policy(connection, account_id, arn, lock=True)
            count = sa.select(sa.func.count()).where(policy_versions.c.policy_id == row.policy_id)
            if (await connection.execute(count)).scalar_one() >= MAX_POLICY_VERSIONS:
                raise LimitExceeded(
                    f"A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you "
                    "create a new version, you must delete an existing version."
                )
            number = int(row.next_version)
            if set_as_default:
                await self._clear_default(connection, str(row.policy_id))
            await self._insert_version(
                connection, str(row.policy_id), number, document, set_as_default, now
            )
            await connection.execute(
                sa.update(managed_policies)
                .where(managed_policies.c.policy_id == row.policy_id)
                .values(next_version=number + 1, update_date=now)
            )
            return await self._version(connection, arn, str(row.policy_id), f"v{number}")

    async def _clear_default(self, connection: AsyncConnection, policy_id: str) -> None:
        await connection.execute(
            sa.update(policy_versions)
            .where(policy_versions.c.policy_id == policy_id, policy_versions.c.is_default)
            .values(is_default=False)
        )

    async def _version(
        self, connection: AsyncConnection, arn: str, policy_id: str, version_id: str
    ) -> PolicyVersion:
        missing = NoSuchEntity(f"Policy {arn} version {version_id} does not exist.")
        number = _version_number(version_id)
        if number is None:
            raise missing
        query = sa.select(policy_versions).where(
            policy_versions.c.policy_id == policy_id, policy_versions.c.number == number
        )
        row = (await connection.execute(query)).first()
        if row is None:
            raise missing
        return version_from_row(row)

    async def get_version(self, account_id: str, arn: str, version_id: str) -> PolicyVersion:
        async with self._db.read() as connection:
            row = await require_policy(connection, account_id, arn)
            return await self._version(connection, arn, str(row.policy_id), version_id)

    async def default_version(self, account_id: str, arn: str) -> PolicyVersion:
        policy = await self.get(account_id, arn)
        return await self.get_version(account_id, arn, policy.default_version_id)

    async def list_versions(
        self, account_id: str, arn: str, *, marker: str | None, max_items: int
    ) -> Page[PolicyVersion]:
        """Versions newest first, as IAM lists them."""
        after = decode_marker("policy-versions", marker)
        if after is not None and not after.isdigit():
            raise InvalidInput("Invalid Marker.")
        async with self._db.read() as connection:
            row = await require_policy(connection, account_id, arn)
            query = sa.select(policy_versions).where(policy_versions.c.policy_id == row.policy_id)
            if after is not None:
                query = query.where(policy_versions.c.number < int(after))
            query = query.order_by(policy_versions.c.number.desc()).limit(max_items + 1)
            rows = (await connection.execute(query)).all()
        found = [version_from_row(row) for row in rows]
        return page_of("policy-versions", found, max_items, lambda version: version.version_id[1:])

    async def delete_version(self, account_id: str, arn: str, version_id: str) -> None:
        """Delete a non-default version."""
        async with self._db.write(account_id) as connection:
            policy = await require_policy(connection, account_id, arn, lock=True)
            version = await self._version(connection, arn, str(policy.policy_id), version_id)
            if version.is_default:
                raise DeleteConflict("Cannot delete the default version of a policy.")
            await connection.execute(
                sa.delete(policy_versions).where(
                    policy_versions.c.policy_id == policy.policy_id,
                    policy_versions.c.number == int(version_id[1:]),
                )
            )

    async def set_default_version(self, account_id: str, arn: str, version_id: str) -> None:
        async with self._db.write(account_id) as connection:
            policy = await require_policy(connection, account_id, arn, lock=True)
            await self._version(connection, arn, str(policy.policy_id), version_id)
            await self._clear_default(connection, str(policy.policy_id))
            await connection.execute(
                sa.update(policy_versions)
                .where(
                    policy_versions.c.policy_id == policy.policy_id,
                    policy_versions.c.number == int(version_id[1:]),
                )
                .values(is_default=True)
            )


async def _load_policy(connection: AsyncConnection, policy_id: str) -> ManagedPolicy:
    query = policy_query().where(managed_policies.c.policy_id == policy_id)
    row = (await connection.execute(query)).one()
    tags = await load_tags(connection, policy_tags, [policy_id])
    return policy_from_row(row, tags[policy_id])
