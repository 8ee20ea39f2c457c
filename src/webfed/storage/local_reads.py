"""Single-statement reads straight on a blocking SQLite connection, for the hottest lookups.

The identity-pool flows read one identity per call by primary key. Through SQLAlchemy's
``Connection.execute`` the lookup spent most of its time in the execution machinery (checkout,
``BEGIN``, context, result objects, ``ROLLBACK``) rather than in SQLite. Here a statement is
compiled once by SQLAlchemy for the connection's dialect; each read then runs the SQL text on
the DB-API connection in autocommit (a single ``SELECT`` is its own consistent snapshot in WAL
mode) and applies the columns' own result processors (``UtcDateTime`` and the like), so rows
come back as the ORM-less tuples SQLAlchemy would have given, in ``selected_columns`` order.

Only statements whose parameters are all strings qualify (they need no bind processing);
:func:`prepare` answers ``None`` for any other, and the caller takes the usual path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["PreparedRead", "prepare", "read"]

#: A column's position in the row and the processor of its stored value.
_Processor = tuple[int, Callable[[Any], Any]]


@dataclass(frozen=True, slots=True)
class PreparedRead:
    """A ``SELECT`` compiled for SQLite: its text, parameter names in order, and the position
    and processor of every column whose stored value needs turning into the column type's
    Python value (most columns need none: strings come back as they are stored)."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[_Processor, ...]


def prepare(statement: sa.Select[Any], dialect: Dialect) -> PreparedRead | None:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    if any(not isinstance(compiled.binds[name].type, sa.String) for name in names):
        return None
    processors = tuple(
        (index, process)
        for index, column in enumerate(statement.selected_columns)
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        is not None
    )
    return PreparedRead(str(compiled), names, processors)


def read(
    connection: sqlite3.Connection, prepared: PreparedRead, params: Mapping[str, object]
) -> Sequence[tuple[Any, ...]]:
    """The statement's rows; ``sqlite3.OperationalError`` when the database is busy."""
    rows = connection.execute(prepared.sql, [params[name] for name in prepared.names]).fetchall()
    processors = prepared.processors
    if not processors:
        return [tuple(row) for row in rows]
    return [_processed(row, processors) for row in rows]


def _processed(row: Sequence[Any], processors: tuple[_Processor, ...]) -> tuple[Any, ...]:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)
