"""Where audit events go: one log line each at once, and the table in batches behind the scenes.

:meth:`AuditSink.record` runs on the request path, so it never awaits and never touches the
database: it writes the event's log line (logger ``webfed.audit``) and appends the event to a
bounded in-memory queue. A background task (:meth:`AuditSink.start`) writes the queue to the
``audit_events`` table in batches: every ``interval`` seconds, or as soon as ``batch_size``
events wait, one multi-row ``INSERT`` per batch.

When the database is slow or down, a batch that fails with a transient error (connection lost,
database locked, timeout) goes back to the head of the queue and the task backs off, doubling
its pause up to ``max_backoff``. When the queue is full, the oldest event is dropped, counted
and warned about: its log line was already written, so the log stays the complete trail. A
batch the database rejects for good (any other error) is dropped and counted, so one bad
batch cannot block the ones behind it. Nothing here raises into a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy.exc as sa_exc

from webfed.audit.event import AuditEvent
from webfed.logs import get_logger

__all__ = ["AuditSink", "AuditSinkStats", "Writer", "is_transient_error"]

Writer = Callable[[Sequence[AuditEvent]], Awaitable[object]]

_TRANSIENT = (
    OSError,
    TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def is_transient_error(error: BaseException) -> bool:
    """Whether a failed batch is worth retrying (the database may answer later)."""
    return isinstance(error, _TRANSIENT)


@dataclass(frozen=True, slots=True)
class AuditSinkStats:
    """Counters since the sink was made (for metrics)."""

    written: int
    dropped: int
    failed_batches: int
    unlogged: int
    queued: int


class AuditSink:
    """Log each event now; store it soon. Create, ``await start()``, ``record()``, ``aclose()``.

    ``record`` must be called from the thread running the event loop (as request handlers are).
    With ``writer=None`` the sink only logs.
    """

    def __init__(
        self,
        writer: Writer | None,
        *,
        capacity: int = 10_000,
        batch_size: int = 500,
        interval: float = 0.25,
        max_backoff: float = 5.0,
        is_transient: Callable[[BaseException], bool] = is_transient_error,
        logger: Any = None,
    ) -> None:
        if capacity < batch_size or batch_size < 1:
            raise ValueError("need 1 <= batch_size <= capacity")
        self._writer = writer
        self._capacity = capacity
        self._batch_size = batch_size
        self._interval = interval
        self._max_backoff = max_backoff
        self._is_transient = is_transient
        self._log = logger if logger is not None else get_logger("webfed.audit")
        self._queue: deque[AuditEvent] = deque(maxlen=capacity)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._backing_off = False
        self._closing = False
        self._overflow_warned = False
        self._written = self._dropped = self._failed_batches = self._unlogged = 0

    @property
    def stats(self) -> AuditSinkStats:
        return AuditSinkStats(
            written=self._written,
            dropped=self._dropped,
            failed_batches=self._failed_batches,
            unlogged=self._unlogged,
            queued=len(self._queue),
        )

    # --- the hot path ----------------------------------------------------------------------------

    def record(self, event: AuditEvent) -> None:
        """Log ``event`` and queue it for the table. Never blocks, never raises."""
        self._write_log_line(event)
        if self._writer is None or self._closing:
            return
        if len(self._queue) == self._capacity:
            self._count_dropped(1)  # the deque's maxlen pushes the oldest out below
        self._queue.append(event)
        if len(self._queue) >= self._batch_size and not self._backing_off and self._wake:
            self._wake.set()

    def _write_log_line(self, event: AuditEvent) -> None:
        try:
            if not self._logs_info():
                return  # the record would be built only to be filtered out
            self._log.info("audit", **event.to_cloudtrail())
        except Exception:  # a broken log stream must not fail the call being audited
            self._unlogged += 1

    def _logs_info(self) -> bool:
        """Whether an ``info`` line would be written (structlog's filtering loggers say so)."""
        is_enabled_for = getattr(self._log, "is_enabled_for", None)
        return is_enabled_for is None or bool(is_enabled_for(logging.INFO))

    def _count_dropped(self, count: int) -> None:
        self._dropped += count
        if not self._overflow_warned:
            self._overflow_warned = True
            self._log.warning(
                "audit queue full: dropping the oldest events from the table (still logged)",
                capacity=self._capacity,
                dropped_total=self._dropped,
            )

    # --- the background writer -------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background writer (once, inside the serving event loop)."""
        if self._task is not None or self._writer is None:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="webfed-audit-writer")

    async def _run(self) -> None:
        delay = self._interval
        while not self._closing:
            await self._pause(delay)
            if self._closing:
                return
            healthy = await self._drain()
            self._backing_off = not healthy
            delay = self._interval if healthy else min(delay * 2, self._max_backoff)

    async def _pause(self, delay: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    async def flush(self) -> bool:
        """Write every queued event now; ``False`` if a transient failure left some queued."""
        return await self._drain()

    async def _drain(self) -> bool:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
            if not await self._write(batch):
                return False
        return True

    async def _write(self, batch: list[AuditEvent]) -> bool:
        assert self._writer is not None
        try:
            await self._writer(batch)
        except asyncio.CancelledError:  # shutdown gave up while this batch was in flight
            self._dropped += len(batch)
            raise
        except Exception as error:  # the database's trouble must never reach a request
            return self._failed(batch, error)
        self._written += len(batch)
        self._overflow_warned = False
        return True

    def _failed(self, batch: list[AuditEvent], error: Exception) -> bool:
        self._failed_batches += 1
        # Only the error's type: a driver's message can quote the whole statement.
        reason = type(error).__name__
        if not self._is_transient(error):
            self._dropped += len(batch)
            self._log.error("audit batch rejected; its events were dropped", error=reason)
            return True
        self._log.warning("audit batch failed; retrying", error=reason, events=len(batch))
        self._requeue(batch)
        return False

    def _requeue(self, batch: list[AuditEvent]) -> None:
        """Put a failed batch back at the head, dropping its oldest events if there is no room."""
        excess = len(batch) - (self._capacity - len(self._queue))
        if excess > 0:
            self._count_dropped(excess)
            batch = batch[excess:]
        self._queue.extendleft(reversed(batch))

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop the writer and flush what is queued, giving up (and counting) after ``timeout``."""
        self._closing = True
        try:
            await asyncio.wait_for(self._finish(), timeout)
        except TimeoutError:
            self._log.warning("audit flush timed out at shutdown", queued=len(self._queue))
        finally:
            if self._queue:
                self._dropped += len(self._queue)
                self._queue.clear()

    async def _finish(self) -> None:
        if self._task is not None:
            if self._wake is not None:
                self._wake.set()
            await self._task
            self._task = None
        await self._drain()
