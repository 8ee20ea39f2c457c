"""``webfed audit tail`` through click's CliRunner, against a migrated database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.unit.audit.conftest import federation_event

# webfed.cli registers the audit group and cli_audit reuses webfed.cli's options: import the
# main command line first, as the console script does, so neither sees the other half-built.
from webfed.cli import main  # noqa: F401
from webfed.cli_audit import _catch_up, _Printer, _Query, _tail, audit
from webfed.storage import Store, migrate
from webfed.storage.audit import StoredAuditEvent

ACCOUNT = "123456789012"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItMSJ9.c2lnbmF0dXJl"


async def _insert(url: str, start: int, count: int, **extra: object) -> None:
    store = await Store.open(url)
    try:
        events = [
            federation_event(ACCOUNT, index=start + i, token=TOKEN, **extra)  # type: ignore[arg-type]
            for i in range(count)
        ]
        await store.audit.insert_many(events)
    finally:
        await store.close()


@pytest.fixture
def url(database_url: str) -> str:
    """A migrated database with no events of ACCOUNT (a fresh one per test on PostgreSQL too)."""
    migrate(database_url)

    async def clear() -> None:
        store = await Store.open(database_url)
        try:
            from datetime import UTC, datetime

            await store.audit.prune(datetime.max.replace(tzinfo=UTC))
        finally:
            await store.close()

    asyncio.run(clear())
    return database_url


def _invoke(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(audit, ["tail", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_table_shows_the_last_lines(url: str) -> None:
    asyncio.run(_insert(url, 0, 30))
    output = _invoke("--database-url", url, "--account-id", ACCOUNT, "-n", "3")
    assert "AssumeRoleWithWebIdentity" in output
    assert output.count("Players / session-") == 3
    assert "session-29" in output and "session-26" not in output
    assert "203.0.113.7" in output and "player-1" in output
    assert TOKEN not in output


def test_json_lines_are_cloudtrail_records(url: str) -> None:
    asyncio.run(_insert(url, 0, 4))
    output = _invoke("--database-url", url, "--account-id", ACCOUNT, "--json")
    records = [json.loads(line) for line in output.splitlines()]
    assert [record["requestID"] for record in records] == ["req-0", "req-1", "req-2", "req-3"]
    assert all(record["eventVersion"] == "1.08" for record in records)
    assert TOKEN not in output


def test_errors_and_event_filters(url: str) -> None:
    asyncio.run(_insert(url, 0, 3))
    asyncio.run(_insert(url, 3, 2, error_code="InvalidIdentityToken"))
    asyncio.run(_insert(url, 5, 1, event_name="GetCallerIdentity"))
    errors = _invoke("--database-url", url, "--account-id", ACCOUNT, "--errors", "--json")
    assert [json.loads(line)["errorCode"] for line in errors.splitlines()] == [
        "InvalidIdentityToken",
        "InvalidIdentityToken",
    ]
    calls = _invoke(
        "--database-url", url, "--account-id", ACCOUNT, "--event", "GetCallerIdentity", "--json"
    )
    assert [json.loads(line)["requestID"] for line in calls.splitlines()] == ["req-5"]


def test_settings_come_from_webfed_variables(url: str) -> None:
    asyncio.run(_insert(url, 0, 1))
    env = {"WEBFED_DATABASE_URL": url, "WEBFED_ACCOUNT_ID": ACCOUNT}
    assert "req-0" in _invoke("--json", env=env)
    assert _invoke("--json", "--account-id", "000000000000", env=env) == ""


def test_follow_ends_after_its_polls(url: str) -> None:
    asyncio.run(_insert(url, 0, 2))
    output = _invoke(
        "--database-url", url, "--account-id", ACCOUNT, "-f", "--max-polls", "2",
        "--poll-interval", "0.01", "--json",
    )  # fmt: skip
    assert len(output.splitlines()) == 2


class _Collector(_Printer):
    def __init__(self) -> None:
        super().__init__(as_json=True)
        self.seen: list[str] = []

    def show(self, events: list[StoredAuditEvent]) -> None:
        self.seen.extend(str(event.record["requestID"]) for event in events)


async def test_follow_prints_events_that_arrive_later(url: str) -> None:
    await _insert(url, 0, 2)
    collector = _Collector()
    query = _Query(ACCOUNT, lines=1, event_name=None, errors_only=False)
    following = asyncio.create_task(_tail(url, query, collector, interval=0.02, polls=25))
    await asyncio.sleep(0.1)
    await _insert(url, 2, 3)
    await following
    assert collector.seen == ["req-1", "req-2", "req-3", "req-4"]


async def test_follow_with_a_filter_starts_after_the_newest_event(url: str) -> None:
    await _insert(url, 0, 2)
    collector = _Collector()
    query = _Query(ACCOUNT, lines=5, event_name=None, errors_only=True)
    following = asyncio.create_task(_tail(url, query, collector, interval=0.02, polls=25))
    await asyncio.sleep(0.1)
    await _insert(url, 2, 1, error_code="AccessDenied")
    await following
    assert collector.seen == ["req-2"]


def test_missing_sqlite_database_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(audit, ["tail", "--data-dir", str(tmp_path)], env={})
    assert result.exit_code == 1
    assert "no webfed database" in result.output


def test_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "webfed.db").touch()
    result = CliRunner().invoke(audit, ["tail", "--data-dir", str(tmp_path)], env={})
    assert result.exit_code == 1
    assert "webfed db upgrade" in result.output


def test_prune_deletes_events_older_than_the_given_days(url: str) -> None:
    asyncio.run(_insert(url, 0, 3))  # events of 2026-03-04, long before "now" minus one day
    result = CliRunner().invoke(
        audit, ["prune", "--older-than", "1", "--database-url", url], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "deleted 3 audit events" in result.output
    assert _invoke("--database-url", url, "--account-id", ACCOUNT, "--json") == ""


async def test_follow_catches_up_page_by_page(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("webfed.cli_audit._FOLLOW_PAGE", 2)
    await _insert(url, 0, 5)
    collector = _Collector()
    query = _Query(ACCOUNT, lines=10, event_name=None, errors_only=False)
    store = await Store.open(url)
    try:
        last_id = await _catch_up(store, query, collector, 0)
        newest = await store.audit.tail(ACCOUNT, 1)
    finally:
        await store.close()
    assert collector.seen == [f"req-{i}" for i in range(5)]
    assert last_id == newest[0].id


def test_prune_on_an_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "webfed.db").touch()
    result = CliRunner().invoke(
        audit, ["prune", "--older-than", "30", "--data-dir", str(tmp_path)], env={}
    )
    assert result.exit_code == 1
    assert "webfed db upgrade" in result.output
