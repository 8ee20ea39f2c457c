"""Liveness and readiness: ``GET /livez``, ``GET /readyz`` and ``GET /healthz`` (readiness).

An orchestrator asks two different questions. **Liveness**: is the process stuck beyond saving,
so that only a restart helps? ``/livez`` answers 200 as long as the event loop runs a handler;
it touches nothing else, so a database outage never gets healthy processes killed in a restart
loop. **Readiness**: may requests be sent here now? ``/readyz`` answers 200 only when

* the runtime is started: the database opened, the sealing key ring and the issuer's signing
  keys loaded (the lifespan sets the runtime only after both are loaded);
* the process is not shutting down;
* the database answers a query within :data:`PING_TIMEOUT_SECONDS`;
* on SQLite, the file at the configured path is still the file opened at start: a database
  moved, deleted or replaced underneath (a ``webfed restore`` done while serving) would have the
  process read and write a file nobody else sees.

Otherwise 503 with ``{"status": "unavailable", "reason": ...}``; the reason names the failed
check and an exception's class, never a message (a driver's message can carry a host name or a
path, and the endpoint is unauthenticated). Readiness recovers by itself when the cause goes
away: every probe checks again. A change of state is logged once, not every probe.

``/healthz`` keeps its historical name and answers exactly what ``/readyz`` answers.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from webfed.logs import get_logger

if TYPE_CHECKING:
    from webfed.runtime import Runtime

__all__ = [
    "PING_TIMEOUT_SECONDS",
    "ROUTES",
    "Readiness",
    "database_problem",
    "sqlite_database_file",
]

PING_TIMEOUT_SECONDS = 2.0
_log = get_logger("webfed.health")


def sqlite_database_file(url: str) -> Path | None:
    """The file of a ``sqlite+aiosqlite:///PATH`` URL; ``None`` for PostgreSQL or in-memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class _Pingable(Protocol):
    async def ping(self) -> None: ...


async def database_problem(store: _Pingable, timeout: float = PING_TIMEOUT_SECONDS) -> str | None:
    """Why the database is not usable now (no answer to a trivial query in time), or ``None``."""
    try:
        async with asyncio.timeout(timeout):
            await store.ping()
    except TimeoutError:
        return f"database did not answer within {timeout:g} s"
    except Exception as error:  # any failure of the database means "not ready"
        return f"database unavailable ({type(error).__name__})"
    return None


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


class Readiness:
    """The readiness checks of one started process (built by the app's lifespan)."""

    def __init__(self, runtime: Runtime, *, ping_timeout: float = PING_TIMEOUT_SECONDS) -> None:
        self.runtime = runtime
        self.shutting_down = False
        self._ping_timeout = ping_timeout
        self._file = sqlite_database_file(runtime.settings.effective_database_url)
        self._identity = _file_identity(self._file) if self._file is not None else None
        self._last_problem: str | None = None

    async def problem(self) -> str | None:
        """Why this process is not ready, or ``None`` when it is."""
        problem = await self._check()
        if problem != self._last_problem:
            if problem is None:
                _log.info("ready again")
            else:
                _log.warning("not ready", reason=problem)
            self._last_problem = problem
        return problem

    async def _check(self) -> str | None:
        if self.shutting_down:
            return "shutting down"
        if self._file is not None and _file_identity(self._file) != self._identity:
            return "database file moved or replaced since start; restart webfed"
        return await database_problem(self.runtime.store, self._ping_timeout)


async def livez(request: Request) -> Response:
    """200 while the process answers; nothing else is checked."""
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    """200 when requests may be sent here, else 503 with the reason (see the module)."""
    readiness: Readiness | None = getattr(request.app.state, "readiness", None)
    problem = "starting" if readiness is None else await readiness.problem()
    if problem is not None:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ok"})


ROUTES = [
    Route("/livez", livez, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/healthz", readyz, methods=["GET"]),
]
