"""Bulk-load identities of one identity pool straight into webfed's tables, for bench/pools.py.

Creating a million identities through ``GetId`` would take longer than the benchmark itself, so
the rows are written directly, in the shape webfed's repository writes them
(``webfed.storage.identity_records``): one ``identities`` row per identity and one
``identity_logins`` row linking login ``(provider, subject)`` to it, keyed by
``login_key(provider, subject)``. Statements and column lists come from the table objects of
``webfed.storage.identity_schema`` (the schema itself is made by ``webfed db upgrade``), and
timestamps go through the columns' own type (``UtcDateTime``), so the server reads the rows
exactly as if it had written them.

* SQLite: the stdlib driver, ``executemany`` in transactions of ``batch`` identities, with
  ``synchronous=OFF`` and a page cache as large as the million-identity database (about
  770 MiB) for the load only (the server's connections set their own pragmas). The B-tree
  inserts themselves are the cost: about 45 s for a million on this 2-core machine.
* PostgreSQL: in one transaction, the keys, indexes and foreign keys of the two tables are
  dropped, the rows go in with ``COPY ... FROM STDIN`` through psycopg, and everything dropped
  is rebuilt from the definitions the database gave (see :func:`_constraints_lifted`); then
  ``VACUUM (ANALYZE)`` of the two tables, the state autovacuum reaches on its own a little
  later, so the planner and index-only scans see the real table sizes from the first request.

Subjects are ``subject(n)`` for ``n`` in ``[start, stop)``: seeding is incremental, so a run
can measure 1,000 identities, add 999,000 and measure again on the same database.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from webfed.storage.engine import create_sync_engine, is_sqlite, parse_database_url
from webfed.storage.identity_schema import identities, identity_logins, login_key

__all__ = [
    "Phases",
    "SeedTarget",
    "count_identities",
    "explain",
    "identity_of",
    "plain_postgresql_url",
    "seed",
    "subject",
]


def subject(n: int) -> str:
    """The ``sub`` claim of seeded user ``n`` (what the benchmark's tokens carry)."""
    return f"player-{n:07d}"


@dataclass(frozen=True)
class SeedTarget:
    """Where the identities go: webfed's database URL and the pool and login provider."""

    database_url: str
    account_id: str
    region: str
    pool_id: str
    provider: str


def plain_postgresql_url(database_url: str) -> str:
    """webfed's ``postgresql+psycopg://`` URL as psycopg itself spells it."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_path(database_url: str) -> str:
    database = parse_database_url(database_url).database
    if not database:
        raise ValueError("an in-memory SQLite database cannot be seeded from another process")
    return database


def _stored(column: sa.Column[Any], dialect: Dialect, value: datetime) -> Any:
    """``value`` as the column's type hands it to the driver (``UtcDateTime`` included)."""
    process = column.type.bind_processor(dialect)
    return value if process is None else process(value)


def _identity_ids(region: str, count: int) -> list[str]:
    """``count`` ids ``REGION:UUID`` with random version-4 UUIDs, as ``GetId`` makes them, at a
    fraction of ``uuid.uuid4()``'s cost (one ``os.urandom`` call for the whole batch)."""
    digits = os.urandom(16 * count).hex()
    found = []
    for start in range(0, 32 * count, 32):
        h = digits[start : start + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        found.append(f"{region}:{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return found


def _rows(
    target: SeedTarget, start: int, stop: int, stored_now: Any
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """``(identities row, identity_logins row)`` per seeded user, in the tables' column order."""
    identity_columns = itemgetter(*(column.name for column in identities.columns))
    login_columns = itemgetter(*(column.name for column in identity_logins.columns))
    for n, identity_id in zip(
        range(start, stop), _identity_ids(target.region, stop - start), strict=True
    ):
        name = subject(n)
        values = {
            "identity_id": identity_id,
            "pool_id": target.pool_id,
            "account_id": target.account_id,
            "merged_into": None,
            "create_date": stored_now,
            "last_modified_date": stored_now,
            "provider": target.provider,
            "subject": name,
            "login_key": login_key(target.provider, name),
        }
        yield identity_columns(values), login_columns(values)


class Phases:
    """Seconds spent in each named phase of a seeding, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._since
        self._since = now

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.seconds.items())
        return f"{self.total:.1f} s ({parts})"


def _batches(start: int, stop: int, batch: int) -> Iterator[tuple[int, int]]:
    for low in range(start, stop, batch):
        yield low, min(stop, low + batch)


def _seed_sqlite(
    target: SeedTarget, start: int, stop: int, now: datetime, batch: int, phases: Phases
) -> None:
    dialect = sqlite_dialect.dialect()
    insert_identity = str(sa.insert(identities).compile(dialect=dialect))
    insert_login = str(sa.insert(identity_logins).compile(dialect=dialect))
    stored_now = _stored(identities.c.create_date, dialect, now)
    connection = sqlite3.connect(_sqlite_path(target.database_url), isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1048576")  # 1 GiB while loading
        connection.execute("PRAGMA busy_timeout=30000")
        for low, high in _batches(start, stop, batch):
            pairs = list(_rows(target, low, high, stored_now))
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(insert_identity, [pair[0] for pair in pairs])
            connection.executemany(insert_login, [pair[1] for pair in pairs])
            connection.execute("COMMIT")
        phases.done("rows and inserts")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        phases.done("checkpoint")
    finally:
        connection.close()


def _copy_statement(table: sa.Table, dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    return f"COPY {quote(table.name)} ({columns}) FROM STDIN"


_SEEDED = (identities.name, identity_logins.name)


@contextmanager
def _constraints_lifted(connection: psycopg.Connection[Any], phases: Phases) -> Iterator[None]:
    """Drop the keys, indexes and foreign keys of the seeded tables, and put them back after.

    A million random keys inserted one by one into four B-trees far larger than
    ``shared_buffers`` take minutes; building each index once, sorted, takes seconds. The
    definitions are read from the database itself (``pg_get_constraintdef``,
    ``pg_get_indexdef``), so what comes back is exactly what ``webfed db upgrade`` made, and
    everything happens in the caller's transaction: a failure leaves the schema as it was.
    """
    constraints = connection.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE contype IN ('p', 'u', 'f')"
        " AND (conrelid = ANY(%(t)s::regclass[]) OR confrelid = ANY(%(t)s::regclass[]))"
        " ORDER BY contype = 'f' DESC, conname",
        {"t": list(_SEEDED)},
    ).fetchall()
    indexes = connection.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index AS i"
        " WHERE indrelid = ANY(%(t)s::regclass[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)",
        {"t": list(_SEEDED)},
    ).fetchall()
    for table, name, _kind, _definition in constraints:  # foreign keys first
        connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for index, _definition in indexes:
        connection.execute(f"DROP INDEX {index}")
    phases.done("dropping keys and indexes")
    yield
    phases.done("rows and COPY")
    for table, name, _kind, definition in reversed(constraints):  # keys before foreign keys
        connection.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _index, definition in indexes:
        connection.execute(definition)
    phases.done("keys, indexes and foreign keys")


def _seed_postgresql(
    target: SeedTarget, start: int, stop: int, now: datetime, batch: int, phases: Phases
) -> None:
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    copy_identities = _copy_statement(identities, dialect)
    copy_logins = _copy_statement(identity_logins, dialect)
    url = plain_postgresql_url(target.database_url)
    with psycopg.connect(url, autocommit=True) as connection:  # transactions spelled out below
        # Sorting a million index entries in memory instead of in temporary files.
        connection.execute("SET maintenance_work_mem = '512MB'")
        with connection.transaction(), _constraints_lifted(connection, phases):
            for low, high in _batches(start, stop, batch):
                pairs = list(_rows(target, low, high, now))
                with connection.cursor() as cursor:
                    with cursor.copy(copy_identities) as copy:
                        for pair in pairs:
                            copy.write_row(pair[0])
                    with cursor.copy(copy_logins) as copy:
                        for pair in pairs:
                            copy.write_row(pair[1])
        quote = dialect.identifier_preparer.quote
        for table in (identities, identity_logins):
            connection.execute(f"VACUUM (ANALYZE) {quote(table.name)}")
        phases.done("vacuum and analyze")


def seed(
    target: SeedTarget, start: int, stop: int, *, now: datetime, batch: int = 100_000
) -> Phases:
    """Store users ``start`` to ``stop - 1`` as identities of the pool; returns the timings."""
    phases = Phases()
    if stop > start:
        if is_sqlite(parse_database_url(target.database_url)):
            _seed_sqlite(target, start, stop, now, batch, phases)
        else:
            _seed_postgresql(target, start, stop, now, batch, phases)
    return phases


def count_identities(database_url: str, pool_id: str) -> int:
    """How many identities the pool holds now (seeded ones and those the flows created)."""
    query = (
        sa.select(sa.func.count()).select_from(identities).where(identities.c.pool_id == pool_id)
    )
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def identity_of(database_url: str, pool_id: str, provider: str, name: str) -> str | None:
    """The identity id login ``(provider, name)`` of the pool is linked to, read directly."""
    query = sa.select(identity_logins.c.identity_id).where(
        identity_logins.c.pool_id == pool_id,
        identity_logins.c.login_key == login_key(provider, name),
    )
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(query).scalar_one_or_none()
    finally:
        engine.dispose()
    return None if found is None else str(found)


def explain(database_url: str, statements: list[tuple[str, Any]]) -> list[str]:
    """The database's plan of each ``(SQL, parameters)``, as the driver received them:
    ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (executed, so
    its timings and page counts are real)."""
    engine = create_sync_engine(database_url)
    lines: list[str] = []
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
            for sql, parameters in statements:
                lines.append(" ".join(sql.split()))
                for row in connection.exec_driver_sql(prefix + sql, parameters):
                    lines.append(f"    {row[-1]}")  # SQLite: (id, parent, 0, detail)
            connection.rollback()
    finally:
        engine.dispose()
    return lines
