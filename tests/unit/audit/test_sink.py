"""AuditSink: one log line per event at once, batched writes behind, never a failure upward."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Sequence

import pytest
import sqlalchemy.exc as sa_exc

from tests.unit.audit.conftest import RecordingLogger, federation_event
from webfed.audit import AuditEvent, AuditSink, is_transient_error


class FakeTable:
    """A writer that keeps every batch, and can be told to fail or to stall."""

    def __init__(self) -> None:
        self.batches: list[list[AuditEvent]] = []
        self.failures: list[BaseException] = []
        self.stall: asyncio.Event | None = None

    async def insert_many(self, events: Sequence[AuditEvent]) -> None:
        if self.stall is not None:
            await self.stall.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append(list(events))

    @property
    def request_ids(self) -> list[str]:
        return [event.request_id for batch in self.batches for event in batch]


def _events(count: int, start: int = 0) -> list[AuditEvent]:
    return [federation_event(index=start + i) for i in range(count)]


def _transient() -> Exception:
    return sa_exc.OperationalError("INSERT ...", {}, ConnectionRefusedError("down"))


def test_record_is_synchronous() -> None:
    assert not inspect.iscoroutinefunction(AuditSink.record)


def test_record_without_a_running_loop_logs_and_queues(logger: RecordingLogger) -> None:
    sink = AuditSink(FakeTable().insert_many, logger=logger)
    sink.record(federation_event())
    assert sink.stats.queued == 1
    [(message, fields)] = logger.levels("info")
    assert message == "audit"
    assert fields["eventName"] == "AssumeRoleWithWebIdentity"
    assert fields["userIdentity"]["type"] == "WebIdentityUser"
    json.dumps(fields)  # JSON-friendly fields


def test_log_line_carries_no_token(logger: RecordingLogger) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    AuditSink(None, logger=logger).record(federation_event(token=token))
    assert token not in json.dumps(logger.lines)


async def test_batch_size_triggers_a_write_before_the_interval(logger: RecordingLogger) -> None:
    table = FakeTable()
    sink = AuditSink(table.insert_many, batch_size=10, capacity=100, interval=60, logger=logger)
    await sink.start()
    for event in _events(10):
        sink.record(event)
    for _ in range(100):
        if table.batches:
            break
        await asyncio.sleep(0.01)
    assert [len(batch) for batch in table.batches] == [10]
    await sink.aclose()


async def test_interval_writes_a_partial_batch(logger: RecordingLogger) -> None:
    table = FakeTable()
    sink = AuditSink(table.insert_many, batch_size=500, interval=0.02, logger=logger)
    await sink.start()
    for event in _events(3):
        sink.record(event)
    await asyncio.sleep(0.2)
    assert table.request_ids == ["req-0", "req-1", "req-2"]
    assert sink.stats.written == 3
    await sink.aclose()


async def test_close_flushes_everything_in_order_in_batches(logger: RecordingLogger) -> None:
    table = FakeTable()
    sink = AuditSink(table.insert_many, batch_size=4, capacity=100, interval=60, logger=logger)
    await sink.start()
    for event in _events(10):
        sink.record(event)
    await sink.aclose()
    assert table.request_ids == [f"req-{i}" for i in range(10)]
    assert all(len(batch) <= 4 for batch in table.batches)
    assert sink.stats.written == 10
    assert sink.stats.queued == 0


async def test_full_queue_drops_the_oldest_and_counts(logger: RecordingLogger) -> None:
    table = FakeTable()
    sink = AuditSink(table.insert_many, batch_size=2, capacity=5, logger=logger)
    for event in _events(8):
        sink.record(event)  # not started: the writer is "slow"
    assert sink.stats.dropped == 3
    assert sink.stats.queued == 5
    assert len(logger.levels("warning")) == 1  # warned once, not per event
    assert len(logger.levels("info")) == 8  # every event was still logged
    await sink.flush()
    assert table.request_ids == [f"req-{i}" for i in range(3, 8)]


async def test_transient_failure_requeues_and_retries(logger: RecordingLogger) -> None:
    table = FakeTable()
    table.failures = [_transient()]
    sink = AuditSink(table.insert_many, batch_size=10, logger=logger)
    for event in _events(3):
        sink.record(event)
    assert await sink.flush() is False
    assert sink.stats.failed_batches == 1
    assert sink.stats.queued == 3
    assert await sink.flush() is True
    assert table.request_ids == ["req-0", "req-1", "req-2"]
    [(message, fields)] = logger.levels("warning")
    assert fields == {"error": "OperationalError", "events": 3}
    assert "INSERT" not in message


async def test_requeue_into_a_full_queue_drops_the_oldest(logger: RecordingLogger) -> None:
    table = FakeTable()
    sink = AuditSink(table.insert_many, batch_size=3, capacity=4, logger=logger)
    for event in _events(4):
        sink.record(event)
    table.stall = asyncio.Event()
    table.failures = [_transient()]
    flushing = asyncio.create_task(sink.flush())
    await asyncio.sleep(0)  # the first batch (0, 1, 2) is in flight
    for event in _events(3, start=4):
        sink.record(event)  # 3, 4, 5, 6: the queue is full again
    table.stall.set()
    assert await flushing is False
    assert sink.stats.queued == 4
    await sink.flush()
    assert table.request_ids == ["req-3", "req-4", "req-5", "req-6"]
    assert sink.stats.dropped == 3


async def test_permanent_failure_drops_the_batch_and_moves_on(logger: RecordingLogger) -> None:
    table = FakeTable()
    table.failures = [sa_exc.DataError("INSERT ...", {}, ValueError("bad"))]
    sink = AuditSink(table.insert_many, batch_size=2, logger=logger)
    for event in _events(4):
        sink.record(event)
    assert await sink.flush() is True
    assert table.request_ids == ["req-2", "req-3"]
    assert sink.stats.dropped == 2
    assert sink.stats.failed_batches == 1
    assert logger.levels("error") == [
        ("audit batch rejected; its events were dropped", {"error": "DataError"})
    ]


async def test_errors_never_reach_the_caller_while_running(logger: RecordingLogger) -> None:
    table = FakeTable()
    table.failures = [RuntimeError("boom"), _transient(), _transient()]
    sink = AuditSink(
        table.insert_many, batch_size=1, capacity=10, interval=0.01, max_backoff=0.02, logger=logger
    )
    await sink.start()
    for event in _events(3):
        sink.record(event)
    for _ in range(200):
        if sink.stats.queued == 0 and sink.stats.failed_batches == 3:
            break
        await asyncio.sleep(0.01)
    await sink.aclose()
    assert table.request_ids == ["req-1", "req-2"]
    assert sink.stats.failed_batches == 3
    assert sink.stats.dropped == 1


async def test_close_gives_up_on_a_hung_database_and_counts(logger: RecordingLogger) -> None:
    table = FakeTable()
    table.stall = asyncio.Event()  # never set: the database hangs
    sink = AuditSink(table.insert_many, batch_size=2, interval=60, logger=logger)
    await sink.start()
    for event in _events(5):
        sink.record(event)
    await sink.aclose(timeout=0.1)
    assert sink.stats.dropped == 5
    assert sink.stats.queued == 0
    assert logger.levels("warning")[-1][0] == "audit flush timed out at shutdown"


async def test_events_after_close_are_logged_but_not_queued(logger: RecordingLogger) -> None:
    sink = AuditSink(FakeTable().insert_many, logger=logger)
    await sink.start()
    await sink.aclose()
    sink.record(federation_event())
    assert sink.stats.queued == 0
    assert len(logger.levels("info")) == 1


def test_a_broken_log_stream_does_not_fail_the_call() -> None:
    class Broken(RecordingLogger):
        def info(self, message: str, **fields: object) -> None:
            raise OSError("stderr closed")

    sink = AuditSink(FakeTable().insert_many, logger=Broken())
    sink.record(federation_event())
    assert sink.stats.unlogged == 1
    assert sink.stats.queued == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_transient(), True),
        (sa_exc.InterfaceError("x", {}, Exception()), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (sa_exc.IntegrityError("x", {}, Exception()), False),
        (ValueError(), False),
    ],
    ids=["operational", "interface", "connection-reset", "timeout", "integrity", "value"],
)
def test_transient_errors(error: BaseException, transient: bool) -> None:
    assert is_transient_error(error) is transient


@pytest.mark.parametrize(
    ("capacity", "batch_size"), [(10, 0), (5, 10)], ids=["empty-batch", "batch-above-capacity"]
)
def test_sizes_are_checked(capacity: int, batch_size: int) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        AuditSink(None, capacity=capacity, batch_size=batch_size)


def test_default_logger_is_webfed_audit() -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        AuditSink(None).record(federation_event(error_code="InvalidIdentityToken"))
    [line] = logs
    assert line["event"] == "audit"
    assert line["log_level"] == "info"
    assert line["errorCode"] == "InvalidIdentityToken"
    assert line["requestParameters"]["webIdentityToken"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
