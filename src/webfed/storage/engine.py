"""Engines for the two supported databases, and the per-connection settings they need.

* ``sqlite+aiosqlite:////abs/path/webfed.db``: every connection turns on WAL journaling, a
  ``busy_timeout`` so writers wait for each other instead of failing, and foreign keys. The
  serving engine waits at most :data:`REQUEST_BUSY_TIMEOUT_MS` for the write lock: a request
  stuck behind another process's long transaction (a tool holding the lock) is answered
  ``ServiceUnavailable`` after that, not left hanging; migrations and tooling, on the blocking
  engine, wait :data:`BUSY_TIMEOUT_MS`. Readers never wait (WAL). The
  driver's own transaction handling is switched off and webfed emits ``BEGIN`` itself, choosing
  ``BEGIN IMMEDIATE`` for write transactions so the write lock is taken up front (a deferred
  transaction that reads first and writes later can fail with ``database is locked`` when
  another writer got there in between).
* ``postgresql+psycopg://user@host:port/db``: psycopg 3 in async mode; READ COMMITTED. A new
  connection gives up after :data:`PG_CONNECT_TIMEOUT_SECONDS` (a server that does not answer
  at all would otherwise hold the request for the operating system's TCP timeout, minutes),
  and the serving engine's statements wait at most :data:`REQUEST_BUSY_TIMEOUT_MS` for a row
  lock (``lock_timeout``; another session's long transaction holding an account's revision
  row would otherwise hold every IAM write of that account indefinitely), unless the URL sets
  ``connect_timeout`` or ``options`` itself. A server that stops answering without closing
  its connections is noticed by TCP keepalives and ``tcp_user_timeout``
  (:data:`PG_TCP_USER_TIMEOUT_MS`). Migrations keep waiting for each other.

Alembic runs synchronously: :func:`sync_url` derives the blocking driver from the async URL.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from webfed.errors import InvalidParameterValue

__all__ = [
    "BUSY_TIMEOUT_MS",
    "PG_CONNECT_TIMEOUT_SECONDS",
    "PG_TCP_USER_TIMEOUT_MS",
    "REQUEST_BUSY_TIMEOUT_MS",
    "WRITE_OPTION",
    "create_engine",
    "create_local_reader",
    "create_sync_engine",
    "is_sqlite",
    "parse_database_url",
    "sync_url",
]

BUSY_TIMEOUT_MS = 30_000
PAGE_CACHE_KIB = 16 * 1024
# Contention among webfed's own writers lasts milliseconds (each write transaction is a few
# statements); waiting longer than this means another process holds the lock for long.
REQUEST_BUSY_TIMEOUT_MS = 5_000
PG_CONNECT_TIMEOUT_SECONDS = 5
LOCAL_READER_BUSY_TIMEOUT_MS = 50
# Connections each process keeps open, and how many more it may open under a burst. A worker
# serves many requests at once; with SQLAlchemy's default of 5 + 10, a busy worker opened and
# closed PostgreSQL sessions continuously (bench/pools.py: ~30 a second, each ~6 ms).
POOL_SIZE = 20
POOL_OVERFLOW = 20
WRITE_OPTION = "webfed_write"
_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "psycopg"}
_SYNC_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


def parse_database_url(url: str) -> URL:
    """Parse a database URL and insist on one of the two supported async drivers."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as error:
        raise InvalidParameterValue("the database URL does not parse") from error
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if _ASYNC_DRIVERS.get(backend) != driver:
        raise InvalidParameterValue(
            "database URL must be sqlite+aiosqlite:///PATH or postgresql+psycopg://..."
        )
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sync_url(url: str | URL) -> URL:
    """The same database with the blocking driver, for Alembic."""
    parsed = parse_database_url(url) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    return parsed.set(drivername=f"{backend}+{_SYNC_DRIVERS[backend]}")


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a fresh file to WAL takes a lock, and a second process
    # connecting at that moment must wait for it rather than fail with "database is locked".
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # IAM paths and prefixes are case-sensitive; SQLite's LIKE is not by default (PostgreSQL's is).
    cursor.execute("PRAGMA case_sensitive_like=ON")
    # 16 MiB of page cache per connection instead of SQLite's 2 MiB: with a million identities
    # the indexes' inner pages no longer fit in 2 MiB, and every lookup re-read them from the OS.
    cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Turn on WAL journaling, waiting out other processes that are switching at the same time.

    The switch holds a shared lock while it asks for an exclusive one. When two fresh
    connections do that at once, SQLite answers one of them ``database is locked`` at once,
    without calling the busy handler (waiting could deadlock), so the wait is ours to do. The
    mode is stored in the file: once one process has switched, the others find WAL already on.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(random.uniform(0.005, 0.05))


def _begin_sqlite_transaction(connection: Connection) -> None:
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _install_sqlite_events(engine: Engine) -> None:
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` with webfed's per-connection settings installed."""
    parsed = parse_database_url(url)
    connect_args = {} if is_sqlite(parsed) else _postgres_connect_args(parsed)
    engine = create_async_engine(
        parsed,
        pool_pre_ping=not is_sqlite(parsed),
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args=connect_args,
    )
    if is_sqlite(parsed):
        _install_sqlite_events(engine.sync_engine)
        event.listen(engine.sync_engine, "connect", _request_busy_timeout)
    return engine


PG_TCP_USER_TIMEOUT_MS = 15_000
_PG_LIVENESS: dict[str, object] = {
    "tcp_user_timeout": PG_TCP_USER_TIMEOUT_MS,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def _postgres_connect_args(parsed: URL) -> dict[str, object]:
    """The serving engine's bounds on waiting (see the module), where the URL sets none."""
    arguments: dict[str, object] = {}
    if "connect_timeout" not in parsed.query:
        arguments["connect_timeout"] = PG_CONNECT_TIMEOUT_SECONDS
    if "options" not in parsed.query:
        arguments["options"] = f"-c lock_timeout={REQUEST_BUSY_TIMEOUT_MS}"
    # A server that vanishes without closing its connections (a frozen host, a partition): sent
    # data unacknowledged for PG_TCP_USER_TIMEOUT_MS closes the connection, and keepalives find
    # idle pooled connections to it, so requests get ServiceUnavailable instead of hanging.
    for name, value in _PG_LIVENESS.items():
        if name not in parsed.query:
            arguments[name] = value
    return arguments


def create_sync_engine(url: str) -> Engine:
    """A blocking engine on the same database (migrations, tooling)."""
    parsed = sync_url(url)
    engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    if is_sqlite(parsed):
        _install_sqlite_events(engine)
    return engine


def create_local_reader(engine: AsyncEngine) -> Engine | None:
    """For a SQLite file, a blocking engine with one connection, used from the event loop's own
    thread for single indexed reads on hot paths (:meth:`Database.rows`): such a read takes
    tens of microseconds, less than aiosqlite's hand-offs to its thread and back. WAL readers
    never wait for writers. ``None`` for PostgreSQL and in-memory databases."""
    url = engine.url
    if not is_sqlite(url) or url.database in (None, "", ":memory:"):
        return None
    local = sa.create_engine(
        sync_url(url),
        poolclass=sa.pool.StaticPool,
        connect_args={"check_same_thread": False},
    )
    _install_sqlite_events(local)
    event.listen(local, "connect", _short_busy_timeout)
    return local


def _request_busy_timeout(dbapi_connection: Any, _record: object) -> None:
    """Set after the connection's set-up (which waits longer for a first switch to WAL)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={REQUEST_BUSY_TIMEOUT_MS}")
    cursor.close()


def _short_busy_timeout(dbapi_connection: Any, _record: object) -> None:
    """The local reader blocks the event loop while it waits: never long (WAL readers wait only
    in rare cases, such as a truncating checkpoint); :meth:`Database.rows` then reads the slow
    way instead."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={LOCAL_READER_BUSY_TIMEOUT_MS}")
    cursor.close()
