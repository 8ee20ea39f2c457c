"""Transactions over the async engine, and the per-account revision counter.

Every IAM write runs in :meth:`Database.write`, which first increments the account's row in
``account_revisions``. That row lock (PostgreSQL) or the immediate write lock (SQLite) serialises
the account's writes, so limit checks done inside the transaction ("at most 5 versions", "at
most 10 attached policies", "at most 100 providers") cannot be raced past by a concurrent
writer, and the revision moves exactly when something changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from webfed.storage.engine import WRITE_OPTION
from webfed.storage.schema import account_revisions

__all__ = ["Database"]


class Database:
    """The engine plus the two kinds of transaction the repositories use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (one consistent snapshot on SQLite WAL)."""
        async with self.engine.connect() as connection, connection.begin():
            yield connection

    @asynccontextmanager
    async def write(self, account_id: str) -> AsyncIterator[AsyncConnection]:
        """A write transaction for ``account_id``: serialised per account, revision bumped."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
                await self._bump_revision(connection, account_id)
                yield connection

    async def _bump_revision(self, connection: AsyncConnection, account_id: str) -> None:
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = insert(account_revisions).values(account_id=account_id, revision=1)
        statement = statement.on_conflict_do_update(
            index_elements=[account_revisions.c.account_id],
            set_={"revision": account_revisions.c.revision + 1},
        )
        await connection.execute(statement)

    async def revision(self, account_id: str) -> int:
        """The account's change counter; 0 before its first IAM write."""
        query = sa.select(account_revisions.c.revision).where(
            account_revisions.c.account_id == account_id
        )
        async with self.read() as connection:
            value = (await connection.execute(query)).scalar_one_or_none()
        return int(value or 0)
