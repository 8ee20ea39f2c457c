"""webfed's storage: SQLAlchemy Core over async engines (aiosqlite, psycopg 3), Alembic migrations.

``Store.open(url)`` gives repositories as attributes (``store.iam``); ``migrate(url)`` brings the
schema to the newest revision (the server runs it at start, ``webfed db upgrade`` on demand).
See ``docs/storage.md`` for the schema and the concurrency guarantees.
"""

from __future__ import annotations

import sqlalchemy as sa

from webfed.storage.attachments import AttachmentRepository
from webfed.storage.audit import AuditRepository
from webfed.storage.database import Database
from webfed.storage.engine import create_engine
from webfed.storage.identity_pools import IdentityPoolRepository
from webfed.storage.identity_records import IdentityRepository
from webfed.storage.keys import SealingKeyRepository
from webfed.storage.migrate import current_revision, head_revision, migrate
from webfed.storage.oidc_providers import OidcProviderRepository
from webfed.storage.policies import PolicyRepository
from webfed.storage.revocations import RevocationRepository
from webfed.storage.roles import RoleRepository

__all__ = [
    "IamRepository",
    "Store",
    "current_revision",
    "head_revision",
    "migrate",
]


class IamRepository:
    """Every IAM repository of one store, plus the per-account change counter."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.providers = OidcProviderRepository(database)
        self.roles = RoleRepository(database)
        self.policies = PolicyRepository(database)
        self.attachments = AttachmentRepository(database, self.roles)

    async def revision(self, account_id: str) -> int:
        """Bumped by every IAM write of the account; caches compare it to know they are stale."""
        return await self._db.revision(account_id)


class Store:
    """The open database and its repositories. Create with :meth:`open`, end with :meth:`close`."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.iam = IamRepository(database)
        self.keys = SealingKeyRepository(database)
        self.audit = AuditRepository(database)
        self.identity_pools = IdentityPoolRepository(database)
        self.identities = IdentityRepository(database)
        self.revocations = RevocationRepository(database)

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to ``url`` (the schema must already be migrated: see :func:`migrate`)."""
        return cls(Database(create_engine(url)))

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def pool_status(self) -> dict[str, int] | None:
        """The connection pool's size, checked-out and overflow connections (for metrics);
        ``None`` for a pool that does not queue."""
        pool = self._db.engine.sync_engine.pool
        if not isinstance(pool, sa.pool.QueuePool):
            return None
        overflow = pool.overflow()  # negative while fewer than ``size`` connections exist
        return {"size": pool.size(), "checked_out": pool.checkedout(), "overflow": max(overflow, 0)}

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query (readiness probe)."""
        async with self._db.read() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        self._db.close_local()
        await self._db.engine.dispose()

    def __repr__(self) -> str:
        return f"Store(dialect={self._db.dialect!r})"
