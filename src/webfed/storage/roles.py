"""Repository of IAM roles, their inline policies, boundaries and tags.

Follows the IAM API reference pages for ``CreateRole``, ``GetRole``, ``UpdateRole``,
``DeleteRole``, ``ListRoles``, ``UpdateAssumeRolePolicy``, ``Put/Get/List/DeleteRolePolicy``,
``Put/DeleteRolePermissionsBoundary`` and ``Tag/Untag/ListRoleTags``. Role names are unique per
account without regard to case (enforced by a unique index on ``lower(name)``; names are ASCII),
and keep the spelling they were created with. A constraint violation is reported as the error
its constraint stands for (:mod:`webfed.storage.constraints`). Inline policies of one role may
total at most 10,240 non-whitespace characters ("IAM and AWS STS quotas").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.core.entities import Page, Role, Tag
from webfed.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from webfed.storage.constraints import TAG_KEY_CONSTRAINTS, mapped_constraints
from webfed.storage.database import Database
from webfed.storage.lookups import find_role, require_policy, require_role
from webfed.storage.pagination import decode_marker, page_of, sortable
from webfed.storage.role_rows import role_from_row, role_query
from webfed.storage.schema import role_policies, role_policy_attachments, role_tags, roles
from webfed.storage.tags import insert_tags, list_tag_page, load_tags, merge_tags, remove_tags

__all__ = ["MAX_INLINE_POLICY_SIZE", "RoleRepository"]

MAX_INLINE_POLICY_SIZE = 10_240
_TAG_QUOTA = "TagsPerRole"


class RoleRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        account_id: str,
        *,
        role_id: str,
        name: str,
        path: str,
        trust_policy: str,
        description: str | None,
        max_session_duration: int,
        permissions_boundary_arn: str | None,
        tags: Sequence[Tag],
        now: datetime,
    ) -> Role:
        """Create a role; ``EntityAlreadyExists`` if the name is taken in any letter case."""

        def exists() -> EntityAlreadyExists:
            return EntityAlreadyExists(f"Role with name {name} already exists.")

        known = {"uq_roles_account_lower_name": exists, **TAG_KEY_CONSTRAINTS}
        with mapped_constraints(known):
            async with self._db.write(account_id) as connection:
                if await find_role(connection, account_id, name) is not None:
                    raise exists()
                boundary = await self._boundary_id(connection, account_id, permissions_boundary_arn)
                await connection.execute(
                    sa.insert(roles).values(
                        role_id=role_id,
                        account_id=account_id,
                        name=name,
                        path=path,
                        trust_policy=trust_policy,
                        description=description,
                        max_session_duration=max_session_duration,
                        boundary_policy_id=boundary,
                        create_date=now,
                    )
                )
                await insert_tags(connection, role_tags, role_id, tags)
                return await _load_role(connection, account_id, name)

    async def _boundary_id(
        self, connection: AsyncConnection, account_id: str, arn: str | None
    ) -> str | None:
        if arn is None:
            return None
        try:
            row = await require_policy(connection, account_id, arn, lock=True)
        except NoSuchEntity as error:
            raise NoSuchEntity(f"Scope ARN: {arn} does not exist or is not attachable.") from error
        return str(row.policy_id)

    async def get(self, account_id: str, name: str) -> Role:
        async with self._db.read() as connection:
            return await _load_role(connection, account_id, name)

    async def find(self, account_id: str, name: str) -> Role | None:
        """The role named ``name`` (any letter case), or ``None``."""
        async with self._db.read() as connection:
            return await _find_role(connection, account_id, name)

    async def list(
        self, account_id: str, *, path_prefix: str, marker: str | None, max_items: int
    ) -> Page[Role]:
        """Roles whose path starts with ``path_prefix``, in name order, one page at a time."""
        after = decode_marker("roles", marker)
        async with self._db.read() as connection:
            order = sortable(sa.func.lower(roles.c.name), connection.dialect.name)
            query = role_query().where(
                roles.c.account_id == account_id,
                roles.c.path.startswith(path_prefix, autoescape=True),
            )
            if after is not None:
                query = query.where(order > after)
            rows = (await connection.execute(query.order_by(order).limit(max_items + 1))).all()
            tags = await load_tags(connection, role_tags, [row.role_id for row in rows])
        found = [role_from_row(row, tags[row.role_id]) for row in rows]
        return page_of("roles", found, max_items, lambda role: role.name.lower())

    async def update(
        self,
        account_id: str,
        name: str,
        *,
        description: str | None = None,
        max_session_duration: int | None = None,
    ) -> Role:
        """Change the description and/or maximum session duration; ``None`` leaves a field."""
        values: dict[str, object] = {}
        if description is not None:
            values["description"] = description
        if max_session_duration is not None:
            values["max_session_duration"] = max_session_duration
        return await self._update(account_id, name, values)

    async def update_trust_policy(self, account_id: str, name: str, document: str) -> None:
        await self._update(account_id, name, {"trust_policy": document})

    async def _update(self, account_id: str, name: str, values: dict[str, object]) -> Role:
        async with self._db.write(account_id) as connection:
            row = await require_role(connection, account_id, name, lock=True)
            if values:
                await connection.execute(
                    sa.update(roles).where(roles.c.role_id == row.role_id).values(**values)
                )
            return await _load_role(connection, account_id, name)

    async def delete(self, account_id: str, name: str) -> None:
        """Delete a role that has no inline and no attached managed policies."""
        async with self._db.write(account_id) as connection:
            row = await require_role(connection, account_id, name, lock=True)
            await self._check_deletable(connection, str(row.role_id))
            await connection.execute(
                sa.delete(role_tags).where(role_tags.c.owner_id == row.role_id)
            )
            await connection.execute(sa.delete(roles).where(roles.c.role_id == row.role_id))

    async def _check_deletable(self, connection: AsyncConnection, role_id: str) -> None:
        for table, message in (
            (role_policies, "Cannot delete entity, must delete policies first."),
            (role_policy_attachments, "Cannot delete entity, must detach all policies first."),
        ):
            query = sa.select(sa.func.count()).select_from(table).where(table.c.role_id == role_id)
            if (await connection.execute(query)).scalar_one() > 0:
                raise DeleteConflict(message)

    async def put_boundary(self, account_id: str, name: str, policy_arn: str) -> None:
        async with self._db.write(account_id) as connection:
            row = await require_role(connection, account_id, name, lock=True)
            boundary = await self._boundary_id(connection, account_id, policy_arn)
            await connection.execute(
                sa.update(roles)
                .where(roles.c.role_id == row.role_id)
                .values(boundary_policy_id=boundary)
            )

    async def delete_boundary(self, account_id: str, name: str) -> None:
        await self._update(account_id, name, {"boundary_policy_id": None})

    async def put_inline_policy(
        self, account_id: str, role_name: str, policy_name: str, document: str, size: int
    ) -> None:
        """Add or replace an inline policy, keeping the role's total within 10,240 characters."""
        async with self._db.write(account_id) as connection:
            row = await require_role(connection, account_id, role_name, lock=True)
            mine = role_policies.c.role_id == row.role_id
            others = sa.select(sa.func.coalesce(sa.func.sum(role_policies.c.size), 0)).where(
                mine, role_policies.c.name != policy_name
            )
            if (await connection.execute(others)).scalar_one() + size > MAX_INLINE_POLICY_SIZE:
                raise LimitExceeded(
                    f"Maximum policy size of {MAX_INLINE_POLICY_SIZE} bytes exceeded for role "
                    f"{row.name}"
                )
            await connection.execute(
                sa.delete(role_policies).where(mine, role_policies.c.name == policy_name)
            )
            await connection.execute(
                sa.insert(role_policies).values(
                    role_id=row.role_id, name=policy_name, document=document, size=size
                )
            )

    async def get_inline_policy(self, account_id: str, role_name: str, policy_name: str) -> str:
        """The document of one inline policy, as it was written."""
        async with self._db.read() as connection:
            row = await require_role(connection, account_id, role_name)
            query = sa.select(role_policies.c.document).where(
                role_policies.c.role_id == row.role_id, role_policies.c.name == policy_name
            )
            document = (await connection.execute(query)).scalar_one_or_none()
        if document is None:
            raise NoSuchEntity(f"The role policy with name {policy_name} cannot be found.")
        return str(document)

    async def list_inline_policies(
        self, account_id: str, role_name: str, *, marker: str | None, max_items: int
    ) -> Page[str]:
        after = decode_marker("role-policies", marker)
        async with self._db.read() as connection:
            row = await require_role(connection, account_id, role_name)
            name = sortable(role_policies.c.name, connection.dialect.name)
            query = sa.select(role_policies.c.name).where(role_policies.c.role_id == row.role_id)
            if after is not None:
                query = query.where(name > after)
            names = (await connection.execute(query.order_by(name).limit(max_items + 1))).scalars()
            found = [str(value) for value in names]
        return page_of("role-policies", found, max_items, lambda value: value)

    async def delete_inline_policy(self, account_id: str, role_name: str, policy_name: str) -> None:
        async with self._db.write(account_id) as connection:
            row = await require_role(connection, account_id, role_name, lock=True)
            deleted = await connection.execute(
                sa.delete(role_policies).where(
                    role_policies.c.role_id == row.role_id, role_policies.c.name == policy_name
                )
            )
            if deleted.rowcount == 0:
                raise NoSuchEntity(f"The role policy with name {policy_name} cannot be found.")

    async def tag(self, account_id: str, name: str, tags: Sequence[Tag]) -> None:
        with mapped_constraints(TAG_KEY_CONSTRAINTS):
            async with self._db.write(account_id) as connection:
                row = await require_role(connection, account_id, name, lock=True)
                await merge_tags(connection, role_tags, row.role_id, tags, quota_name=_TAG_QUOTA)

    async def untag(self, account_id: str, name: str, keys: Sequence[str]) -> None:
        async with self._db.write(account_id) as connection:
            row = await require_role(connection, account_id, name, lock=True)
            await remove_tags(connection, role_tags, row.role_id, keys)

    async def list_tags(
        self, account_id: str, name: str, *, marker: str | None, max_items: int
    ) -> Page[Tag]:
        async with self._db.read() as connection:
            row = await require_role(connection, account_id, name)
            return await list_tag_page(connection, role_tags, row.role_id, marker, max_items)


# A write answers with what it wrote, read in its own transaction: a second transaction after
# the commit could fail (the database gone meanwhile) and turn a done write into an error.


async def _find_role(connection: AsyncConnection, account_id: str, name: str) -> Role | None:
    query = role_query().where(
        roles.c.account_id == account_id, sa.func.lower(roles.c.name) == name.lower()
    )
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    tags = await load_tags(connection, role_tags, [row.role_id])
    return role_from_row(row, tags[row.role_id])


async def _load_role(connection: AsyncConnection, account_id: str, name: str) -> Role:
    role = await _find_role(connection, account_id, name)
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role
