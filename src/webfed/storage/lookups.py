"""Row lookups shared by the repositories, each raising IAM's own ``NoSuchEntity`` wording.

Inside a write transaction the lookups lock the row (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite already holds the database write lock), so a check made on the row stays true until
commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.core.identifiers import oidc_provider_arn, parse_policy_arn
from webfed.errors import NoSuchEntity
from webfed.storage.schema import managed_policies, oidc_providers, roles

__all__ = [
    "find_policy",
    "find_role",
    "policy_not_found",
    "require_policy",
    "require_provider",
    "require_role",
]


def _maybe_lock(query: sa.Select[tuple[object, ...]], lock: bool) -> sa.Select[tuple[object, ...]]:
    return query.with_for_update() if lock else query


async def find_role(
    connection: AsyncConnection, account_id: str, name: str, *, lock: bool = False
) -> Row[tuple[object, ...]] | None:
    """The role row whose name equals ``name`` ignoring case, or ``None``."""
    query = sa.select(roles).where(
        roles.c.account_id == account_id, sa.func.lower(roles.c.name) == name.lower()
    )
    return (await connection.execute(_maybe_lock(query, lock))).first()


async def require_role(
    connection: AsyncConnection, account_id: str, name: str, *, lock: bool = False
) -> Row[tuple[object, ...]]:
    row = await find_role(connection, account_id, name, lock=lock)
    if row is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return row


def policy_not_found(arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {arn} was not found.")


async def find_policy(
    connection: AsyncConnection, account_id: str, arn: str, *, lock: bool = False
) -> Row[tuple[object, ...]] | None:
    """The managed policy row named by ``arn`` in this account, or ``None``.

    ARNs are compared exactly (path and name as written); a policy of another account or an
    AWS managed policy (``arn:aws:iam::aws:policy/...``) is never found here.
    """
    parts = parse_policy_arn(arn)
    if parts.account_id != account_id:
        return None
    query = sa.select(managed_policies).where(
        managed_policies.c.account_id == account_id,
        managed_policies.c.name == parts.name,
        managed_policies.c.path == parts.path,
    )
    return (await connection.execute(_maybe_lock(query, lock))).first()


async def require_policy(
    connection: AsyncConnection, account_id: str, arn: str, *, lock: bool = False
) -> Row[tuple[object, ...]]:
    row = await find_policy(connection, account_id, arn, lock=lock)
    if row is None:
        raise policy_not_found(arn)
    return row


async def require_provider(
    connection: AsyncConnection, account_id: str, resource: str, *, lock: bool = False
) -> Row[tuple[object, ...]]:
    query = sa.select(oidc_providers).where(
        oidc_providers.c.account_id == account_id, oidc_providers.c.resource == resource
    )
    row = (await connection.execute(_maybe_lock(query, lock))).first()
    if row is None:
        arn = oidc_provider_arn(account_id, resource)
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")
    return row
