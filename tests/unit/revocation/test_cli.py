"""``webfed sessions``: revoke checks its command line before touching anything, stores the rule
and its audit event; list reads; prune deletes only expired rules."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from webfed.cli import main
from webfed.storage import Store

ROLE = "arn:aws:iam::000000000000:role/game/GamePlayer"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["sessions", *args], catch_exceptions=False)


def _used(directory: Path) -> Path:
    """A database a server has used: migrated, with its first sealing key."""
    result = CliRunner().invoke(main, ["keys", "rotate", "--data-dir", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return _used(tmp_path)


@pytest.fixture(scope="module")
def untouched_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database for the command lines that must be refused before writing anything."""
    return _used(tmp_path_factory.mktemp("sessions"))


def _stored_events(data_dir: Path) -> list[dict[str, object]]:
    async def read() -> list[dict[str, object]]:
        store = await Store.open(f"sqlite+aiosqlite:///{data_dir / 'webfed.db'}")
        try:
            events = await store.audit.tail("000000000000", 50, event_name="RevokeSessions")
        finally:
            await store.close()
        return [json.loads(event.record_json) for event in events]

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of"),
        (("--sub", "a", "--role", "R"), "got --sub, --role"),
        (("--all", "--access-key-id", "ASIAREVOKETESTKEY234"), "got --access-key-id, --all"),
        (("--role", "R", "--provider", "accounts.google.com"), "--provider narrows --sub"),
        (("--access-key-id", "AKIAREVOKETESTKEY234"), "ASIA followed by 16"),
        (("--sub", ""), "printable"),
        (("--sub", "a", "--provider", "https://"), "not a provider"),
        (("--role", "arn:aws:iam::111111111111:role/R"), "not in account 000000000000"),
        (("--all", "--issued-before", "yesterday"), "not an ISO 8601 time"),
        (("--all", "--issued-before", "2026-11-26T09:00:00"), "give a time zone"),
        (("--all", "--issued-before", "2999-01-01T00:00:00Z"), "must not be in the future"),
        (("--all", "--reason", "x" * 257), "at most 256"),
    ],
    ids=[
        "no-selector",
        "two-selectors",
        "all-and-key",
        "provider-without-sub",
        "long-term-key",
        "empty-sub",
        "bad-provider",
        "other-account",
        "bad-time",
        "naive-time",
        "future",
        "long-reason",
    ],
)
def test_bad_command_lines_are_usage_errors(
    untouched_dir: Path, args: tuple[str, ...], message: str
) -> None:
    result = _run("revoke", *args, "--data-dir", str(untouched_dir))
    assert result.exit_code == 2
    assert message in result.output
    assert "no revocation rules" in _run("list", "--data-dir", str(untouched_dir)).output


def test_a_missing_or_unused_database_is_refused(tmp_path: Path) -> None:
    typo = tmp_path / "typo"
    result = _run("revoke", "--all", "--data-dir", str(typo))
    assert result.exit_code == 2
    assert "no webfed database" in result.output
    assert not typo.exists()
    assert _run("list", "--data-dir", str(typo)).exit_code == 2
    assert _run("prune", "--data-dir", str(typo)).exit_code == 2
    unused = tmp_path / "unused"
    unused.mkdir()
    assert CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(unused)]).exit_code == 0
    result = _run("revoke", "--all", "--data-dir", str(unused))
    assert result.exit_code == 1
    assert "no sealing keys" in result.output


def test_revoke_list_prune(data_dir: Path) -> None:
    where = ("--data-dir", str(data_dir))
    by_role = _run("revoke", "--role", ROLE, "--reason", "leaked build", *where)
    assert by_role.exit_code == 0, by_role.output
    assert "revoked (rule 1): sessions of role" in by_role.output
    assert "warning: no role named GamePlayer exists now" in by_role.output
    assert "within 2 seconds" in by_role.output
    old = (datetime.now(UTC) - timedelta(hours=14)).isoformat()
    by_sub = _run(
        "revoke",
        "--sub",
        "user|42",
        "--provider",
        "https://accounts.google.com/",
        "--issued-before",
        old,
        *where,
    )
    assert by_sub.exit_code == 0, by_sub.output
    listed = [json.loads(line) for line in _run("list", "--json", *where).output.splitlines()]
    assert [(rule["kind"], rule["target"], rule["prunable"]) for rule in listed] == [
        ("role", ROLE, False),
        ("subject", "user|42", True),
    ]
    assert listed[1]["provider"] == "accounts.google.com"
    assert listed[0]["reason"] == "leaked build"
    table = _run("list", *where).output
    assert "(prunable)" in table
    assert "leaked build" in table
    assert "deleted 1 expired" in _run("prune", *where).output
    assert "deleted 0 expired" in _run("prune", *where).output
    events = _stored_events(data_dir)
    assert [event["requestParameters"]["kind"] for event in events] == ["role", "subject"]  # type: ignore[index]
    first = events[0]
    assert first["eventSource"] == "webfed"
    assert first["responseElements"] == {"ruleId": 1}
    assert first["userIdentity"]["type"] == "Root"  # type: ignore[index]


def test_a_role_named_by_name_is_stored_by_its_arn(data_dir: Path) -> None:
    async def create_role() -> None:
        store = await Store.open(f"sqlite+aiosqlite:///{data_dir / 'webfed.db'}")
        try:
            await store.iam.roles.create(
                "000000000000",
                role_id="AROAREVOKETESTROLE01",
                name="GamePlayer",
                path="/game/",
                trust_policy='{"Version":"2012-10-17","Statement":[]}',
                description=None,
                max_session_duration=3600,
                permissions_boundary_arn=None,
                tags=(),
                now=datetime.now(UTC),
            )
        finally:
            await store.close()

    asyncio.run(create_role())
    result = _run("revoke", "--role", "gameplayer", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert f"sessions of role {ROLE}" in result.output
