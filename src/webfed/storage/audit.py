"""The ``audit_events`` table: stored audit events, newest found by id, old ones pruned.

Each row keeps the full scrubbed CloudTrail record as JSON text (``record``) beside a few
columns worth filtering on: account, time, service, operation, request id, source IP, error
code, and who called (principal, role, session name, identity provider, token subject).
Column values are cut to their column's length; the record keeps the (already capped) values.

Audit writes are not IAM writes: they never bump the account's revision counter, so caches stay
warm however busy the trail is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from webfed.audit.event import AuditEvent
from webfed.storage.database import Database
from webfed.storage.schema import UtcDateTime, metadata

__all__ = ["AuditRepository", "StoredAuditEvent", "audit_events"]

# Rows per executemany call: building and binding 100 rows takes ~2 ms.
INSERT_CHUNK = 100
PRUNE_CHUNK = 5_000

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    ),  # INTEGER PRIMARY KEY is SQLite's auto-incrementing rowid
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("event_time", UtcDateTime, nullable=False),
    sa.Column("event_source", sa.String(64), nullable=False),
    sa.Column("event_name", sa.String(128), nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("source_ip", sa.String(64), nullable=False),
    sa.Column("error_code", sa.String(128), nullable=True),
    sa.Column("principal", sa.String(1024), nullable=True),
    sa.Column("role_arn", sa.String(2048), nullable=True),
    sa.Column("session_name", sa.String(64), nullable=True),
    sa.Column("provider", sa.String(255), nullable=True),
    sa.Column("subject", sa.String(255), nullable=True),
    sa.Column("record", sa.Text, nullable=False),
)
sa.Index("ix_audit_events_event_time", audit_events.c.event_time)
sa.Index("ix_audit_events_account_id_id", audit_events.c.account_id, audit_events.c.id)
_INSERT = sa.insert(audit_events)


@dataclass(frozen=True, slots=True)
class StoredAuditEvent:
    """One stored event: its row id (for ``tail --follow``), the filter columns, the record."""

    id: int
    event_time: datetime
    event_source: str
    event_name: str
    source_ip: str
    error_code: str | None
    principal: str | None
    role_arn: str | None
    session_name: str | None
    provider: str | None
    subject: str | None
    record_json: str

    @property
    def record(self) -> dict[str, object]:
        """The CloudTrail record as stored."""
        return cast(dict[str, object], json.loads(self.record_json))


_LENGTHS: dict[str, int | None] = {
    column.name: column.type.length
    for column in audit_events.columns
    if isinstance(column.type, sa.String)
}


def _column_text(column: str, value: str | None) -> str | None:
    """``value`` fit for the column: no NUL (PostgreSQL refuses it), valid UTF-8, cut to length."""
    if value is None:
        return None
    length = _LENGTHS[column]
    if value.isascii():  # ASCII is valid UTF-8 already (most values: ids, ARNs, names)
        text = value.replace("\x00", "")
    else:
        text = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:length] if length else text


def _row(event: AuditEvent) -> dict[str, object]:
    columns = {
        "event_id": event.event_id,
        "account_id": event.account_id,
        "event_source": event.event_source,
        "event_name": event.event_name,
        "request_id": event.request_id,
        "source_ip": event.source_ip,
        "error_code": event.error_code,
        "principal": event.principal,
        "role_arn": event.role_arn,
        "session_name": event.session_name,
        "provider": event.provider,
        "subject": event.subject,
    }
    row: dict[str, object] = {name: _column_text(name, value) for name, value in columns.items()}
    row["event_time"] = event.event_time
    # ASCII-only JSON: lone surrogates and control characters arrive escaped, never raw.
    row["record"] = json.dumps(event.to_cloudtrail(), separators=(",", ":"), allow_nan=False)
    return row


def _stored(row: Row[tuple[object, ...]]) -> StoredAuditEvent:
    values = row._mapping
    return StoredAuditEvent(
        id=int(values["id"]),
        event_time=values["event_time"],
        event_source=values["event_source"],
        event_name=values["event_name"],
        source_ip=values["source_ip"],
        error_code=values["error_code"],
        principal=values["principal"],
        role_arn=values["role_arn"],
        session_name=values["session_name"],
        provider=values["provider"],
        subject=values["subject"],
        record_json=values["record"],
    )


def _chunks(events: Sequence[AuditEvent], size: int) -> Iterator[Sequence[AuditEvent]]:
    for start in range(0, len(events), size):
        yield events[start : start + size]


class AuditRepository:
    """Append audit events, read the newest, prune the old."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def insert_many(self, events: Sequence[AuditEvent]) -> None:
        """Store ``events`` in one transaction: one ``INSERT`` statement, executed for many rows
        (the driver's ``executemany``), :data:`INSERT_CHUNK` rows at a time. The statement is
        the same whatever the batch size, so SQLAlchemy compiles it once per process, not once
        per batch. The transaction runs whole in :meth:`Database.run_write` (on SQLite, the
        process's writer thread): the write lock is held while the rows are written, not while
        a busy event loop gets round to the next chunk, so a batch does not keep other writers
        (an identity's first sign-in) waiting."""
        if not events:
            return

        def insert(connection: Connection) -> None:
            for chunk in _chunks(events, INSERT_CHUNK):
                connection.execute(_INSERT, [_row(event) for event in chunk])

        await self._db.run_write(insert)

    async def tail(
        self,
        account_id: str,
        limit: int,
        *,
        after_id: int | None = None,
        event_name: str | None = None,
        errors_only: bool = False,
    ) -> list[StoredAuditEvent]:
        """Events of ``account_id``, oldest first.

        Without ``after_id``: the newest ``limit`` events. With it: the first ``limit`` events
        stored after that id, so a follower pages forward without skipping any.
        """
        if limit <= 0:
            return []
        query = sa.select(audit_events).where(audit_events.c.account_id == account_id)
        if event_name is not None:
            query = query.where(audit_events.c.event_name == event_name)
        if errors_only:
            query = query.where(audit_events.c.error_code.is_not(None))
        if after_id is None:
            query = query.order_by(audit_events.c.id.desc())
        else:
            query = query.where(audit_events.c.id > after_id).order_by(audit_events.c.id)
        async with self._db.read() as connection:
            rows = (await connection.execute(query.limit(limit))).all()
        events = [_stored(row) for row in rows]
        return events[::-1] if after_id is None else events

    async def prune(self, before: datetime) -> int:
        """Delete events older than ``before`` (every account), in short transactions."""
        total = 0
        while True:
            oldest = (
                sa.select(audit_events.c.id)
                .where(audit_events.c.event_time < before)
                .limit(PRUNE_CHUNK)
            )
            async with self._db.plain_write() as connection:
                result = await connection.execute(
                    sa.delete(audit_events).where(audit_events.c.id.in_(oldest.scalar_subquery()))
                )
            deleted = int(result.rowcount or 0)
            total += deleted
            if deleted < PRUNE_CHUNK:
                return total
