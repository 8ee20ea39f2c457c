"""The audit_events repository on SQLite and PostgreSQL, alone and behind a running AuditSink."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.unit.audit.conftest import NOW, ROLE_ARN, federation_event
from webfed.audit import HIDDEN, AuditEvent, AuditSink
from webfed.storage import Store


async def _insert(store: Store, account: str, count: int, **extra: object) -> None:
    events = [federation_event(account, index=i, **extra) for i in range(count)]  # type: ignore[arg-type]
    await store.audit.insert_many(events)


async def test_tail_returns_the_newest_oldest_first(store: Store, account: str) -> None:
    await _insert(store, account, 30)
    rows = await store.audit.tail(account, 5)
    assert [row.record["requestID"] for row in rows] == [f"req-{i}" for i in range(25, 30)]
    assert [row.id for row in rows] == sorted(row.id for row in rows)


async def test_stored_columns_and_record(store: Store, account: str) -> None:
    event = federation_event(account, index=2, error_code="InvalidIdentityToken")
    await store.audit.insert_many([event])
    [row] = await store.audit.tail(account, 10)
    assert row.event_time == NOW + timedelta(seconds=2)
    assert (row.event_source, row.event_name) == ("sts.amazonaws.com", "AssumeRoleWithWebIdentity")
    assert (row.source_ip, row.error_code) == ("203.0.113.7", "InvalidIdentityToken")
    assert (row.role_arn, row.session_name) == (ROLE_ARN, "session-2")
    assert (row.provider, row.subject) == ("accounts.example.com", "player-1")
    assert row.record == event.to_cloudtrail()
    assert row.record["requestParameters"]["webIdentityToken"] == HIDDEN  # type: ignore[index]


async def test_after_id_pages_forward_without_gaps(store: Store, account: str) -> None:
    await _insert(store, account, 12)
    first = await store.audit.tail(account, 12)
    start = first[2].id
    page = await store.audit.tail(account, 4, after_id=start)
    assert [row.id for row in page] == [row.id for row in first[3:7]]
    assert await store.audit.tail(account, 4, after_id=first[-1].id) == []


async def test_filters_by_event_name_and_errors(store: Store, account: str) -> None:
    await store.audit.insert_many(
        [
            federation_event(account, index=0),
            federation_event(account, index=1, error_code="AccessDenied"),
            federation_event(account, index=2, event_name="GetCallerIdentity"),
            federation_event(account, index=3, event_name="GetCallerIdentity", error_code="X"),
        ]
    )
    errors = await store.audit.tail(account, 10, errors_only=True)
    assert [row.error_code for row in errors] == ["AccessDenied", "X"]
    calls = await store.audit.tail(account, 10, event_name="GetCallerIdentity")
    assert [row.record["requestID"] for row in calls] == ["req-2", "req-3"]
    both = await store.audit.tail(account, 10, event_name="GetCallerIdentity", errors_only=True)
    assert [row.record["requestID"] for row in both] == ["req-3"]


async def test_accounts_are_isolated(store: Store, account: str) -> None:
    other = "999999999999" if account != "999999999999" else "888888888888"
    await _insert(store, account, 2)
    await _insert(store, other, 3)
    assert len(await store.audit.tail(account, 100)) == 2


@pytest.mark.parametrize("limit", [0, -1], ids=["zero", "negative"])
async def test_non_positive_limit_reads_nothing(store: Store, account: str, limit: int) -> None:
    await _insert(store, account, 2)
    assert await store.audit.tail(account, limit) == []


async def test_prune_deletes_only_older_events(store: Store, account: str) -> None:
    await _insert(store, account, 10)
    deleted = await store.audit.prune(NOW + timedelta(seconds=4))
    assert deleted >= 4  # other tests' events in the shared PostgreSQL database may be older too
    rows = await store.audit.tail(account, 100)
    assert [row.record["requestID"] for row in rows] == [f"req-{i}" for i in range(4, 10)]


async def test_prune_works_in_chunks(
    store: Store, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webfed.storage.audit.PRUNE_CHUNK", 3)
    await _insert(store, account, 10)
    await store.audit.prune(NOW + timedelta(days=1))
    assert await store.audit.tail(account, 100) == []


async def test_many_events_in_one_call(store: Store, account: str) -> None:
    await _insert(store, account, 1_203)  # three INSERT chunks in one transaction
    rows = await store.audit.tail(account, 2_000)
    assert len(rows) == 1_203


async def test_hostile_values_fit_their_columns(store: Store, account: str) -> None:
    event = AuditEvent(
        event_time=NOW,
        event_source="sts.amazonaws.com",
        event_name="N" * 500,
        account_id=account,
        request_id="r\x00" * 100,
        source_ip="\ud800" * 100,  # a lone surrogate: not encodable as UTF-8
        user_agent="agent\x00",
        request_parameters={"roleSessionName": "s" * 500, "roleArn": "a\x00b"},
        additional_event_data={"sub": "é" * 1000, "provider": "p"},
    )
    await store.audit.insert_many([event])
    [row] = await store.audit.tail(account, 1)
    assert len(row.event_name) == 128
    assert row.session_name == "s" * 64
    assert row.role_arn == "ab"
    assert row.subject == "é" * 255
    assert "\x00" not in json.dumps(row.record)  # escaped as \\u0000 in the JSON text


async def test_audit_writes_leave_the_iam_revision_alone(store: Store, account: str) -> None:
    await _insert(store, account, 3)
    assert await store.iam.revision(account) == 0


async def test_sink_writes_to_the_table(store: Store, account: str) -> None:
    sink = AuditSink(store.audit.insert_many, batch_size=5, interval=0.01)
    await sink.start()
    for index in range(12):
        sink.record(federation_event(account, index=index))
    await sink.aclose()
    assert sink.stats.written == 12
    rows = await store.audit.tail(account, 100)
    assert [row.record["requestID"] for row in rows] == [f"req-{i}" for i in range(12)]


async def test_sink_survives_a_missing_table(store: Store, account: str) -> None:
    async with store._db.engine.begin() as connection:  # simulate a broken schema
        await connection.execute(sa.text("ALTER TABLE audit_events RENAME TO audit_events_moved"))
    try:
        sink = AuditSink(store.audit.insert_many, batch_size=5, interval=0.01)
        sink.record(federation_event(account))
        retried = (
            store.dialect == "sqlite"
        )  # SQLite: OperationalError; PostgreSQL: ProgrammingError
        assert await sink.flush() is not retried  # never raises
        assert sink.stats.failed_batches == 1
        assert (sink.stats.queued, sink.stats.dropped) == ((1, 0) if retried else (0, 1))
    finally:
        async with store._db.engine.begin() as connection:
            await connection.execute(
                sa.text("ALTER TABLE audit_events_moved RENAME TO audit_events")
            )
