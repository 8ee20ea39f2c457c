"""Managed policies attached to roles (``AttachRolePolicy``, ``DetachRolePolicy``,
``ListAttachedRolePolicies``), and the assembled permissions of a role for the policy engine.

A role carries at most 10 managed policies (the default of the "Managed policies attached to
an IAM role" quota); the count is checked inside the write transaction, which holds the
account's write lock, so two concurrent attaches cannot both slip under it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.core.entities import AttachedPolicy, Page, RolePermissions
from webfed.core.identifiers import policy_arn
from webfed.errors import LimitExceeded, NoSuchEntity
from webfed.storage.database import Database
from webfed.storage.lookups import find_policy, policy_not_found, require_role
from webfed.storage.pagination import decode_marker, page_of, sortable
from webfed.storage.roles import RoleRepository
from webfed.storage.schema import (
    managed_policies,
    policy_versions,
    role_policies,
    role_policy_attachments,
    roles,
)

__all__ = ["MAX_ATTACHED_POLICIES", "AttachmentRepository"]

MAX_ATTACHED_POLICIES = 10
_attached = role_policy_attachments


class AttachmentRepository:
    def __init__(self, database: Database, roles_repository: RoleRepository) -> None:
        self._db = database
        self._roles = roles_repository

    async def attach(self, account_id: str, role_name: str, arn: str, now: datetime) -> None:
        """Attach a policy to a role; attaching it again changes nothing."""
        async with self._db.write(account_id) as connection:
            role = await require_role(connection, account_id, role_name, lock=True)
            policy = await find_policy(connection, account_id, arn)
            if policy is None:
                raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
            mine = _attached.c.role_id == role.role_id
            already = sa.select(_attached.c.policy_id).where(
                mine, _attached.c.policy_id == policy.policy_id
            )
            if (await connection.execute(already)).first() is not None:
                return
            count = sa.select(sa.func.count()).select_from(_attached).where(mine)
            if (await connection.execute(count)).scalar_one() >= MAX_ATTACHED_POLICIES:
                raise LimitExceeded(
                    f"Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED_POLICIES}"
                )
            await connection.execute(
                sa.insert(_attached).values(
                    role_id=role.role_id, policy_id=policy.policy_id, attach_date=now
                )
            )

    async def detach(self, account_id: str, role_name: str, arn: str) -> None:
        async with self._db.write(account_id) as connection:
            role = await require_role(connection, account_id, role_name, lock=True)
            policy = await find_policy(connection, account_id, arn)
            if policy is None:
                raise policy_not_found(arn)
            deleted = await connection.execute(
                sa.delete(_attached).where(
                    _attached.c.role_id == role.role_id,
                    _attached.c.policy_id == policy.policy_id,
                )
            )
            if deleted.rowcount == 0:
                raise policy_not_found(arn)

    async def list_attached(
        self,
        account_id: str,
        role_name: str,
        *,
        path_prefix: str = "/",
        marker: str | None = None,
        max_items: int = 100,
    ) -> Page[AttachedPolicy]:
        """The role's attached policies whose path starts with ``path_prefix``, by name."""
        after = decode_marker("attached-policies", marker)
        async with self._db.read() as connection:
            role = await require_role(connection, account_id, role_name)
            order = sortable(sa.func.lower(managed_policies.c.name), connection.dialect.name)
            query = (
                sa.select(managed_policies.c.name, managed_policies.c.path)
                .join(_attached, _attached.c.policy_id == managed_policies.c.policy_id)
                .where(
                    _attached.c.role_id == role.role_id,
                    managed_policies.c.path.startswith(path_prefix, autoescape=True),
                )
            )
            if after is not None:
                query = query.where(order > after)
            rows = (await connection.execute(query.order_by(order).limit(max_items + 1))).all()
        found = [
            AttachedPolicy(row.name, policy_arn(account_id, row.path, row.name)) for row in rows
        ]
        return page_of("attached-policies", found, max_items, lambda policy: policy.name.lower())

    async def permissions(self, account_id: str, role_name: str) -> RolePermissions:
        """The role with every policy document that governs its sessions."""
        role = await self._roles.get(account_id, role_name)
        async with self._db.read() as connection:
            inline = await self._inline(connection, role.role_id)
            managed = await self._managed(connection, account_id, role.role_id)
            boundary = await self._boundary(connection, role.role_id)
        return RolePermissions(role=role, inline=inline, managed=managed, boundary=boundary)

    async def _inline(
        self, connection: AsyncConnection, role_id: str
    ) -> tuple[tuple[str, str], ...]:
        query = (
            sa.select(role_policies.c.name, role_policies.c.document)
            .where(role_policies.c.role_id == role_id)
            .order_by(role_policies.c.name)
        )
        return tuple((row.name, row.document) for row in await connection.execute(query))

    async def _managed(
        self, connection: AsyncConnection, account_id: str, role_id: str
    ) -> tuple[tuple[str, str], ...]:
        query = (
            sa.select(managed_policies.c.path, managed_policies.c.name, policy_versions.c.document)
            .join(_attached, _attached.c.policy_id == managed_policies.c.policy_id)
            .join(policy_versions, policy_versions.c.policy_id == managed_policies.c.policy_id)
            .where(_attached.c.role_id == role_id, policy_versions.c.is_default)
            .order_by(managed_policies.c.name)
        )
        rows = await connection.execute(query)
        return tuple((policy_arn(account_id, row.path, row.name), row.document) for row in rows)

    async def _boundary(self, connection: AsyncConnection, role_id: str) -> str | None:
        query = (
            sa.select(policy_versions.c.document)
            .join(roles, roles.c.boundary_policy_id == policy_versions.c.policy_id)
            .where(roles.c.role_id == role_id, policy_versions.c.is_default)
        )
        document = (await connection.execute(query)).scalar_one_or_none()
        return None if document is None else str(document)
