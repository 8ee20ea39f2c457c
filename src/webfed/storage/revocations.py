"""Session revocation rules in the database (``session_revocations``, migration ``0006``).

One row per rule (:class:`webfed.revocation.RevocationRule`). Rules are append-only: a new
revocation is a new row, and rows are deleted only once every session they could cover has
expired (:data:`webfed.revocation.PRUNE_AFTER` after ``issued_before``). Adding a rule prunes the
expired ones in the same transaction, so the table stays small without a scheduler;
``webfed sessions prune`` does it on demand.

Nodes notice changes by polling :meth:`RevocationRepository.version`: the number of rows and the
highest id. An insert raises the highest id; a delete lowers the count (ids are never reused), so
the pair moves with every change. Rules are global rows carrying their account (like sealing
keys, they do not touch the per-account IAM revision).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from webfed.revocation import PRUNE_AFTER, RevocationKind, RevocationRule
from webfed.storage.database import Database
from webfed.storage.schema import UtcDateTime, metadata

__all__ = ["RevocationRepository", "session_revocations"]

session_revocations = sa.Table(
    "session_revocations",
    metadata,
    # Ids are never reused (a PostgreSQL sequence; SQLite AUTOINCREMENT), which the version
    # pair relies on: a delete and an insert between two polls still move the highest id.
    sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("target", sa.String(2048), nullable=False),
    sa.Column("provider", sa.String(2048), nullable=True),
    sa.Column("issued_before", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("reason", sa.String(256), nullable=True),
    sqlite_autoincrement=True,
)
sa.Index("ix_session_revocations_issued_before", session_revocations.c.issued_before)


def _rule(row: Row[tuple[object, ...]]) -> RevocationRule:
    values = row._mapping
    return RevocationRule(
        rule_id=int(values["rule_id"]),
        account_id=str(values["account_id"]),
        kind=RevocationKind(values["kind"]),
        target=str(values["target"]),
        issued_before=values["issued_before"],
        created_at=values["created_at"],
        provider=values["provider"],
        reason=values["reason"],
    )


class RevocationRepository:
    """Add, list, load and prune revocation rules."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        *,
        account_id: str,
        kind: RevocationKind,
        target: str,
        issued_before: datetime,
        now: datetime,
        provider: str | None = None,
        reason: str | None = None,
    ) -> tuple[RevocationRule, int]:
        """Store a rule; also delete rules that expired by ``now``. The rule and that count."""
        values = {
            "account_id": account_id,
            "kind": str(kind),
            "target": target,
            "provider": provider,
            "issued_before": issued_before,
            "created_at": now,
            "reason": reason,
        }
        async with self._db.plain_write() as connection:
            pruned = await _prune(connection, now)
            inserted = await connection.execute(
                sa.insert(session_revocations)
                .values(**values)
                .returning(session_revocations.c.rule_id)
            )
            rule_id = int(inserted.scalar_one())
        return RevocationRule(
            rule_id=rule_id,
            account_id=account_id,
            kind=kind,
            target=target,
            issued_before=issued_before,
            created_at=now,
            provider=provider,
            reason=reason,
        ), pruned

    async def list(self, account_id: str | None = None) -> tuple[RevocationRule, ...]:
        """Every stored rule (of one account, if given), oldest first."""
        query = sa.select(session_revocations).order_by(session_revocations.c.rule_id)
        if account_id is not None:
            query = query.where(session_revocations.c.account_id == account_id)
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_rule(row) for row in rows)

    async def active(self, now: datetime) -> tuple[RevocationRule, ...]:
        """The rules that may still cover a live session at ``now`` (every account's)."""
        query = (
            sa.select(session_revocations)
            .where(session_revocations.c.issued_before > now - PRUNE_AFTER)
            .order_by(session_revocations.c.rule_id)
        )
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_rule(row) for row in rows)

    async def version(self) -> tuple[int, int]:
        """(row count, highest rule id): moves whenever a rule is added or deleted."""
        query = sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.max(session_revocations.c.rule_id), 0)
        ).select_from(session_revocations)
        async with self._db.read() as connection:
            count, highest = (await connection.execute(query)).one()
        return int(count), int(highest)

    async def prune(self, now: datetime) -> int:
        """Delete the rules every session of which has expired by ``now``; how many."""
        async with self._db.plain_write() as connection:
            return await _prune(connection, now)


async def _prune(connection: AsyncConnection, now: datetime) -> int:
    result = await connection.execute(
        sa.delete(session_revocations).where(
            session_revocations.c.issued_before <= now - PRUNE_AFTER
        )
    )
    return int(result.rowcount or 0)
