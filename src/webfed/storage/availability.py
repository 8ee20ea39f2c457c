"""Which database failures mean "the database is unavailable now", as opposed to a bug.

A request that fails because the database cannot be reached, dropped the connection, is locked
by another process past the busy timeout, or has no free pooled connection is answered
``ServiceUnavailable`` (HTTP 503), the error AWS returns when a service cannot serve a request
for the moment; AWS SDKs retry it with back-off. Every other unexpected exception remains an
``InternalFailure`` (500), logged with its trace.

A transaction cut in the middle is rolled back by the database (PostgreSQL ends the session's
open transaction when its connection drops; SQLite never committed it), so a 503 means nothing
of that transaction was written, with one exception no database can close: a connection lost
while ``COMMIT`` was in flight, where the commit may have happened. Clients retrying such a
write see the usual AWS answer for a repeated call (``EntityAlreadyExists`` for a create).
"""

from __future__ import annotations

import sqlalchemy.exc as sa_exc

from webfed.errors import ServiceUnavailable

__all__ = ["UNAVAILABLE_MESSAGE", "database_unavailable"]

UNAVAILABLE_MESSAGE = "The service is unavailable. Please try again shortly."

# OperationalError: connection refused or lost, server shutting down, SQLite's "database is
# locked" after the busy timeout, disk full or I/O error. InterfaceError: a connection already
# closed. TimeoutError: no pooled connection became free in time. DisconnectionError: the
# pool's check on a connection failed.
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)


def database_unavailable(error: BaseException) -> ServiceUnavailable | None:
    """The ``ServiceUnavailable`` to answer for ``error`` if it is the database's unavailability,
    else ``None``. The message never quotes the driver's (which can name a host, a path or a
    statement)."""
    if isinstance(error, _UNAVAILABLE):
        return ServiceUnavailable(UNAVAILABLE_MESSAGE)
    return None
