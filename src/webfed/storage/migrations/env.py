"""Alembic environment: runs on the connection :func:`webfed.storage.migrate` hands over.

The caller opens the connection, takes the cross-process lock and begins the transaction;
this script only configures the context on that connection and runs the scripts.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from webfed.storage.schema import metadata


def run_on_connection(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("webfed migrations run only through webfed.storage.migrate()")
run_on_connection(_connection)
