"""Transactions over the async engine, and the per-account revision counter.

Every IAM write runs in :meth:`Database.write`, which first increments the account's row in
``account_revisions``. That row lock (PostgreSQL) or the immediate write lock (SQLite) serialises
the account's writes, so limit checks done inside the transaction ("at most 5 versions", "at
most 10 attached policies", "at most 100 providers") cannot be raced past by a concurrent
writer, and the revision moves exactly when something changed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from webfed.storage import local_reads
from webfed.storage.engine import REQUEST_BUSY_TIMEOUT_MS, WRITE_OPTION, create_local_reader
from webfed.storage.schema import account_revisions

__all__ = ["Database"]

_Result = TypeVar("_Result")


class Database:
    """The engine plus the two kinds of transaction the repositories use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._local: Engine | None = None
        self._local_ready = False
        self._raw: PoolProxiedConnection | None = None
        self._prepared: dict[int, tuple[sa.Select[Any], local_reads.PreparedRead | None]] = {}
        self._writer: tuple[Engine, ThreadPoolExecutor] | None = None
        self._writer_ready = False

    async def rows(
        self, statement: sa.Select[Any], params: Mapping[str, object]
    ) -> Sequence[tuple[Any, ...]]:
        """The rows of one read-only statement (as tuples, in ``selected_columns`` order), in a
        read of its own: the identity-pool flows' lookups. On a SQLite file it runs in this
        thread on a blocking connection (:func:`~webfed.storage.engine.create_local_reader`),
        without SQLAlchemy's execution machinery when it can
        (:mod:`~webfed.storage.local_reads`); on PostgreSQL in autocommit: one statement sees
        one snapshot anyway, and ``BEGIN`` and ``COMMIT`` were two more round trips for every
        lookup."""
        if not self._local_ready:
            self._local, self._local_ready = create_local_reader(self.engine), True
        if self._local is not None:
            try:
                return self._read_locally(self._local, statement, params)
            except (sa.exc.OperationalError, sqlite3.OperationalError):
                pass  # busy or unavailable here: the asynchronous path waits properly
        if self.dialect != "postgresql":
            async with self.read() as connection:
                return [tuple(row) for row in await connection.execute(statement, params)]
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            return [tuple(row) for row in await connection.execute(statement, params)]

    def _read_locally(
        self, local: Engine, statement: sa.Select[Any], params: Mapping[str, object]
    ) -> Sequence[tuple[Any, ...]]:
        known = self._prepared.get(id(statement))
        if known is None or known[0] is not statement:
            known = statement, local_reads.prepare(statement, local.dialect)
            self._prepared[id(statement)] = known
        prepared = known[1]
        if prepared is None:
            with local.connect() as connection:
                return [tuple(row) for row in connection.execute(statement, params)]
        if self._raw is None:
            self._raw = local.raw_connection()  # kept: the reader's one connection
        dbapi = self._raw.dbapi_connection
        return local_reads.read(dbapi, prepared, params)  # type: ignore[arg-type]

    async def run_write(self, work: Callable[[Connection], _Result]) -> _Result:
        """``work(connection)`` in one write transaction (as :meth:`plain_write`), for short
        writes on hot paths (an identity's first sign-in).

        On a SQLite file it runs on this process's writer thread, on a blocking connection of
        its own: the process's writes queue there in order and each holds the database's write
        lock only while its statements run, never while waiting for a busy event loop (with
        aiosqlite every statement is a trip through the loop, and writers of the same process
        slept in SQLite's busy handler while one of them waited). Elsewhere it runs in
        :meth:`plain_write`. ``work`` must not touch the event loop. Like any request's write,
        it fails (``database is locked``) :data:`REQUEST_BUSY_TIMEOUT_MS` after it was asked
        for, the time it queued behind this process's other writes included.
        """
        writer = self._local_writer()
        if writer is None:
            async with self.plain_write() as connection:
                return await connection.run_sync(work)
        engine, thread = writer
        asked_at = time.monotonic()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(thread, _write_now, engine, work, asked_at)

    def _local_writer(self) -> tuple[Engine, ThreadPoolExecutor] | None:
        if not self._writer_ready:
            engine = create_local_reader(self.engine)  # a blocking single-connection engine
            if engine is not None:
                thread = ThreadPoolExecutor(1, thread_name_prefix="webfed-sqlite-writer")
                self._writer = engine, thread
            self._writer_ready = True
        return self._writer

    def close_local(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._local is not None:
            self._local.dispose()
        self._local, self._local_ready = None, False
        if self._writer is not None:
            engine, thread = self._writer
            thread.shutdown(wait=True)
            engine.dispose()
        self._writer, self._writer_ready = None, False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (one consistent snapshot on SQLite WAL)."""
        async with self.engine.connect() as connection, connection.begin():
            yield connection

    @asynccontextmanager
    async def write(self, account_id: str) -> AsyncIterator[AsyncConnection]:
        """A write transaction for ``account_id``: serialised per account, revision bumped."""
        async with self.plain_write() as connection:
            await self._bump_revision(connection, account_id)
            yield connection

    @asynccontextmanager
    async def plain_write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction that leaves the IAM revision alone (keys, audit events,
        identities, revocations: nothing the IAM caches hold); ``BEGIN IMMEDIATE`` on SQLite."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
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


def _write_now(engine: Engine, work: Callable[[Connection], _Result], asked_at: float) -> _Result:
    with engine.connect() as connection:
        waited_ms = 1000 * (time.monotonic() - asked_at)
        left_ms = max(1, round(REQUEST_BUSY_TIMEOUT_MS - waited_ms))
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"PRAGMA busy_timeout={left_ms}")  # before BEGIN: not in a transaction
        cursor.close()
        connection.execution_options(**{WRITE_OPTION: True})  # BEGIN IMMEDIATE
        with connection.begin():
            return work(connection)
