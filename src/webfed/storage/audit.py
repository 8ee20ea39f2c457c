"""The ``audit_events`` table: stored audit events, newest found by id, old ones pruned.

Each row keeps the full scrubbed CloudTrail record as JSON text (``record``) beside a few
columns worth filtering on: account, time, service, operation, request id, source IP, error
code, and who called (principal, role, session name, identity provider, token subject).
Column values are cut to their column's length; the record keeps the (already capped) values.

Audit writes are not IAM writes: they never bump the account's revision counter, so caches stay
warm however busy the trail is.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Row

from webfed.audit.event import AuditEvent
from webfed.storage.database import Database
from webfed.storage.schema import UtcDateTime, metadata

__all__ = ["AuditRepository", "StoredAuditEvent", "audit_events", "record_json"]

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


def _column_text(length: int | None, value: str | None) -> str | None:
    """``value`` fit for a column of ``length``: no NUL (PostgreSQL refuses it), valid UTF-8,
    cut to length."""
    if value is None:
        return None
    if value.isascii():  # ASCII is valid UTF-8 already (most values: ids, ARNs, names)
        text = value.replace("\x00", "")
    else:
        text = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:length] if length else text


_TEXT_COLUMNS = (
    "event_id",
    "account_id",
    "event_source",
    "event_name",
    "request_id",
    "source_ip",
    "error_code",
    "principal",
    "role_arn",
    "session_name",
    "provider",
    "subject",
)
_TEXT_LENGTHS = tuple(_LENGTHS[name] for name in _TEXT_COLUMNS)
_INSERT_COLUMNS = (*_TEXT_COLUMNS, "event_time", "record")


def _row(event: AuditEvent, stored_time: Callable[[datetime], object]) -> tuple[object, ...]:
    """The row's values, in :data:`_INSERT_COLUMNS` order."""
    texts = (
        event.event_id,
        event.account_id,
        event.event_source,
        event.event_name,
        event.request_id,
        event.source_ip,
        event.error_code,
        event.principal,
        event.role_arn,
        event.session_name,
        event.provider,
        event.subject,
    )
    fitted = [_column_text(length, text) for length, text in zip(_TEXT_LENGTHS, texts, strict=True)]
    return (*fitted, stored_time(event.event_time), event.to_json())


def record_json(event: AuditEvent) -> str:
    """The row's ``record``: the CloudTrail record as compact JSON text."""
    return event.to_json()


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


@functools.cache
def _insert_for(dialect: Dialect) -> tuple[str, Callable[[datetime], object]]:
    """The ``INSERT`` text in the driver's own placeholders, and how ``event_time`` is bound."""
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = "INSERT INTO audit_events ({}) VALUES ({})".format(
        ", ".join(_INSERT_COLUMNS), ", ".join([marker] * len(_INSERT_COLUMNS))
    )
    processor = audit_events.c.event_time.type.dialect_impl(dialect).bind_processor(dialect)
    return statement, processor if processor is not None else _as_is


def _as_is(value: datetime) -> object:
    return value


class AuditRepository:
    """Append audit events, read the newest, prune the old."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def insert_many(self, events: Sequence[AuditEvent]) -> None:
        """Store ``events`` in one transaction: one ``INSERT`` executed for every row by the
        driver (``executemany``: one prepared statement on SQLite, pipelined on PostgreSQL).
        The SQL text is written once per dialect and handed to the driver as is: SQLAlchemy's
        compiling and per-row parameter handling were most of the cost of storing an event.
        The transaction runs whole in :meth:`Database.run_write` (on SQLite, the process's
        writer thread): the write lock is held while the rows are written, not while a busy
        event loop gets round to them, so a batch does not keep other writers (an identity's
        first sign-in) waiting."""
        if not events:
            return

        def insert(connection: Connection) -> None:
            statement, stored_time = _insert_for(connection.dialect)
            connection.exec_driver_sql(statement, [_row(event, stored_time) for event in events])

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
