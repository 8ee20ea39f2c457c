"""Tag rows shared by roles, managed policies and OIDC providers.

IAM compares role and policy tag keys without regard to case but keeps the spelling last
written ("IAM User Guide", "Tagging IAM resources"); OIDC provider tag keys are compared exactly.
Whether a table folds is a property of its schema (a ``folded_key`` column), not of the caller.
Tagging merges: a key already present is replaced, key spelling included. The per-entity quota
(50) is checked after the merge inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.core.entities import Page, Tag, fold_case
from webfed.errors import LimitExceeded
from webfed.storage.pagination import decode_marker, page_of, sortable

__all__ = ["MAX_TAGS", "insert_tags", "list_tag_page", "load_tags", "merge_tags", "remove_tags"]

MAX_TAGS = 50
OwnerId = str | int


def _folds_case(table: sa.Table) -> bool:
    """Role and policy tag tables carry ``folded_key``; provider tags compare keys exactly."""
    return "folded_key" in table.c


async def _matching_keys(
    connection: AsyncConnection, table: sa.Table, owner: OwnerId, keys: Sequence[str]
) -> list[str]:
    """The stored keys equal to one of ``keys``, after case folding where the table folds.

    The fold is :func:`webfed.core.entities.fold_case`, computed in Python and stored in
    ``folded_key``, the very column the unique index is on, so matching and uniqueness agree on
    every database.
    """
    if _folds_case(table):
        matches = table.c.folded_key.in_({fold_case(key) for key in keys})
    else:
        matches = table.c.key.in_(set(keys))
    query = sa.select(table.c.key).where(table.c.owner_id == owner, matches)
    return [str(key) for key in (await connection.execute(query)).scalars()]


async def _delete_keys(
    connection: AsyncConnection, table: sa.Table, owner: OwnerId, keys: Sequence[str]
) -> None:
    if keys:
        await connection.execute(
            sa.delete(table).where(table.c.owner_id == owner, table.c.key.in_(keys))
        )


async def load_tags(
    connection: AsyncConnection, table: sa.Table, owners: Sequence[OwnerId]
) -> dict[OwnerId, tuple[Tag, ...]]:
    """The tags of each owner, sorted by key."""
    found: dict[OwnerId, list[Tag]] = {owner: [] for owner in owners}
    if not owners:
        return {}
    query = sa.select(table.c.owner_id, table.c.key, table.c.value).where(
        table.c.owner_id.in_(owners)
    )
    for owner, key, value in await connection.execute(query):
        found[owner].append(Tag(key, value))
    return {owner: tuple(sorted(tags, key=lambda tag: tag.key)) for owner, tags in found.items()}


async def insert_tags(
    connection: AsyncConnection, table: sa.Table, owner: OwnerId, tags: Iterable[Tag]
) -> None:
    folds = _folds_case(table)
    rows: list[dict[str, object]] = []
    for tag in tags:
        row: dict[str, object] = {"owner_id": owner, "key": tag.key, "value": tag.value}
        if folds:
            row["folded_key"] = fold_case(tag.key)
        rows.append(row)
    if rows:
        await connection.execute(sa.insert(table), rows)


async def merge_tags(
    connection: AsyncConnection,
    table: sa.Table,
    owner: OwnerId,
    tags: Sequence[Tag],
    *,
    quota_name: str,
) -> None:
    """Add or replace ``tags`` on ``owner``, then enforce the 50-tag quota."""
    keys = [tag.key for tag in tags]
    replaced = await _matching_keys(connection, table, owner, keys)
    await _delete_keys(connection, table, owner, replaced)
    await insert_tags(connection, table, owner, tags)
    count_query = sa.select(sa.func.count()).select_from(table).where(table.c.owner_id == owner)
    if (await connection.execute(count_query)).scalar_one() > MAX_TAGS:
        raise LimitExceeded(f"Cannot exceed quota for {quota_name}: {MAX_TAGS}")


async def remove_tags(
    connection: AsyncConnection,
    table: sa.Table,
    owner: OwnerId,
    keys: Sequence[str],
) -> None:
    """Remove the tags with these keys; keys that are absent are ignored, as IAM does."""
    found = await _matching_keys(connection, table, owner, keys)
    await _delete_keys(connection, table, owner, found)


async def list_tag_page(
    connection: AsyncConnection,
    table: sa.Table,
    owner: OwnerId,
    marker: str | None,
    max_items: int,
) -> Page[Tag]:
    """One page of an owner's tags in key order."""
    after = decode_marker("tags", marker)
    key = sortable(table.c.key, connection.dialect.name)
    query = sa.select(table.c.key, table.c.value).where(table.c.owner_id == owner)
    if after is not None:
        query = query.where(key > after)
    query = query.order_by(key).limit(max_items + 1)
    rows = [Tag(key, value) for key, value in await connection.execute(query)]
    return page_of("tags", rows, max_items, lambda tag: tag.key)
