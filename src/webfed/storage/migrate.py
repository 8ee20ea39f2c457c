"""Schema migrations: Alembic ``upgrade head`` with its configuration built in code.

The migration scripts live inside the package (``webfed/storage/migrations``) so they ship in
the wheel. Upgrading is idempotent (Alembic records the applied revision) and safe when several
processes start at once:

* PostgreSQL: the whole upgrade runs in one transaction holding a transaction-scoped advisory
  lock, so a second process waits, then finds the schema at head and does nothing. PostgreSQL
  DDL is transactional, so a failed upgrade leaves nothing half-built.
* SQLite: the upgrade runs inside ``BEGIN IMMEDIATE``, which holds the database's write lock;
  SQLite DDL is transactional too.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from webfed.storage.engine import WRITE_OPTION, create_sync_engine

__all__ = ["MIGRATION_LOCK_KEY", "current_revision", "head_revision", "migrate"]

# An arbitrary constant that names "webfed schema migration" among advisory locks.
MIGRATION_LOCK_KEY = 0x7765_6266_6564
_SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    """The newest revision the shipped scripts know."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migration scripts found")
    return head


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to the newest schema (blocking; run before serving).

    ``revision`` names an older target instead; tests use it to check a data migration.
    """
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    lock = sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY))
                    connection.execute(lock)
                config = _config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (``None`` when never migrated)."""
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
