"""``webfed backup`` and ``webfed restore`` against a real server's SQLite database.

The backup is taken while a thread keeps creating roles through the IAM API, so it must be one
consistent snapshot (the roles in it are exactly the first N created, for some N no smaller than
the number created before the backup began), and the server must not notice. The restore goes
into a new data directory, and a server started there serves the same roles. Files that are not
webfed databases, damaged ones, ones of an unknown schema, a wrong master key and a server still
holding the target are refused, each with one sentence and nothing changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.integration.conftest import WebfedServer
from webfed.cli import main

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "accounts.google.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
)


def webfed(*arguments: str, **env: str | None) -> Result:
    """Run a ``webfed`` command in-process, without the test runner's WEBFED_ variables."""
    cleared: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("WEBFED_")
    }
    return CliRunner().invoke(main, list(arguments), env={**cleared, **env})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    instance = WebfedServer(tmp_path_factory.mktemp("webfed-backup"), None, {})
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def backup_file(server: WebfedServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup of the server with one role in it, taken by the CLI in-process."""
    server.client("iam").create_role(RoleName="kept", AssumeRolePolicyDocument=TRUST)
    output = tmp_path_factory.mktemp("backups") / "webfed.backup"
    result = webfed("backup", "--data-dir", str(server.data_dir), "--output", str(output))
    assert result.exit_code == 0, result.output
    return output


def _role_names(server: WebfedServer) -> list[str]:
    paginator = server.client("iam").get_paginator("list_roles")
    return [role["RoleName"] for page in paginator.paginate() for role in page["Roles"]]


def test_backup_while_serving_writes_then_restore_into_a_new_data_dir(
    server: WebfedServer, tmp_path: Path
) -> None:
    iam = server.client("iam")
    created: list[str] = []
    stop = threading.Event()
    enough = threading.Event()

    def write_roles() -> None:
        while not stop.is_set():
            name = f"w-{len(created):05d}"
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
            created.append(name)
            if len(created) >= 10:
                enough.set()

    writer = threading.Thread(target=write_roles)
    writer.start()
    try:
        assert enough.wait(60)
        before = len(created)
        output = tmp_path / "live.backup"
        # A separate process, as an operator's cron job would run it.
        command = [sys.executable, "-m", "webfed", "backup", "--data-dir", str(server.data_dir)]
        result = subprocess.run(
            [*command, "--output", str(output)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        after = len(created)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "backup written to" in result.stdout
    assert "master key is NOT in the backup" in result.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp")), "the draft is renamed, never left behind"

    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copy2(server.data_dir / "master.key", restored_dir / "master.key")
    restore = webfed("restore", "--data-dir", str(restored_dir), "--input", str(output))
    assert restore.exit_code == 0, restore.output
    restored = WebfedServer(restored_dir, None, {})
    restored.start()
    try:
        names = [name for name in _role_names(restored) if name.startswith("w-")]
    finally:
        restored.stop()
    # One snapshot: exactly the first N roles, N between the counts before and after.
    assert names == created[: len(names)]
    assert before <= len(names) <= after + 1  # +1: a create in flight when `after` was read
    assert "kept" not in names


def test_restore_refuses_to_replace_a_database_without_force(
    backup_file: Path, tmp_path: Path, server: WebfedServer
) -> None:
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy2(server.data_dir / "master.key", target / "master.key")
    first = webfed("restore", "--data-dir", str(target), "--input", str(backup_file))
    assert first.exit_code == 0, first.output
    again = webfed("restore", "--data-dir", str(target), "--input", str(backup_file))
    assert again.exit_code == 1
    assert "exists; add --force" in again.output
    forced = webfed("restore", "--data-dir", str(target), "--input", str(backup_file), "--force")
    assert forced.exit_code == 0, forced.output
    kept = list(target.glob("webfed.db.replaced-*"))
    assert len(kept) == 1 and "kept as" in forced.output
    with sqlite3.connect(target / "webfed.db") as connection:
        roles = [row[0] for row in connection.execute("SELECT name FROM roles")]
    assert "kept" in roles


def test_restore_refuses_while_a_server_holds_the_database(
    backup_file: Path, server: WebfedServer
) -> None:
    before = (server.data_dir / "webfed.db").stat().st_ino
    result = webfed(
        "restore", "--data-dir", str(server.data_dir), "--input", str(backup_file), "--force"
    )
    assert result.exit_code == 1
    assert "open in another process" in result.output
    assert (server.data_dir / "webfed.db").stat().st_ino == before
    server.client("iam").list_roles()


def test_restore_refuses_a_master_key_that_does_not_open_the_backup(
    backup_file: Path, tmp_path: Path
) -> None:
    other_key = "A" * 43  # 32 bytes of base64url, not the server's key
    result = webfed(
        "restore",
        *("--data-dir", str(tmp_path / "data"), "--input", str(backup_file)),
        WEBFED_MASTER_KEY=other_key,
    )
    assert result.exit_code == 1
    assert "does not open this backup's keys" in result.output
    assert other_key not in result.output
    assert not (tmp_path / "data" / "webfed.db").exists()


def test_restore_without_any_master_key_says_where_to_put_it(
    backup_file: Path, tmp_path: Path
) -> None:
    result = webfed("restore", "--data-dir", str(tmp_path / "d"), "--input", str(backup_file))
    assert result.exit_code == 2
    assert "no master key" in result.output
    assert not (tmp_path / "d" / "master.key").exists()  # never invented


def _unknown_revision(backup: Path, target: Path) -> Path:
    shutil.copy2(backup, target)
    with sqlite3.connect(target) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00d'")
    return target


def _damaged(backup: Path, target: Path) -> Path:
    data = bytearray(backup.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(page_size, len(data), page_size):
        data[offset + 8 : offset + 40] = b"\xff" * 32  # every b-tree page header garbled
    target.write_bytes(bytes(data))
    return target


def _other_sqlite(_backup: Path, target: Path) -> Path:
    with sqlite3.connect(target) as connection:
        connection.execute("CREATE TABLE notes (text)")
    return target


def _garbage(_backup: Path, target: Path) -> Path:
    target.write_bytes(b"this is not a database\n" * 100)
    return target


def _truncated(backup: Path, target: Path) -> Path:
    target.write_bytes(backup.read_bytes()[:5000])
    return target


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(_garbage, "not a SQLite database", id="garbage"),
        pytest.param(_truncated, "not a readable SQLite database", id="truncated"),
        pytest.param(_damaged, "damaged|malformed", id="damaged-pages"),
        pytest.param(_other_sqlite, "not a webfed database", id="another-application"),
        pytest.param(_unknown_revision, "unknown to this webfed", id="unknown-schema"),
    ],
)
def test_restore_refuses_what_is_not_a_sound_webfed_backup(
    backup_file: Path, tmp_path: Path, make: object, expected: str
) -> None:
    assert callable(make)
    bad = make(backup_file, tmp_path / "bad.backup")
    result = webfed("restore", "--data-dir", str(tmp_path / "data"), "--input", str(bad))
    assert result.exit_code == 1, result.output
    assert re.search(expected, result.output), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "data" / "webfed.db").exists()


def test_restore_of_a_missing_file(tmp_path: Path) -> None:
    result = webfed("restore", "--data-dir", str(tmp_path), "--input", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_backup_refuses_to_overwrite_and_needs_a_database(
    backup_file: Path, server: WebfedServer, tmp_path: Path
) -> None:
    result = webfed("backup", "--data-dir", str(server.data_dir), "--output", str(backup_file))
    assert result.exit_code == 1
    assert "exists; add --force" in result.output
    forced = webfed(
        "backup", "--data-dir", str(server.data_dir), "--output", str(backup_file), "--force"
    )
    assert forced.exit_code == 0, forced.output
    empty = webfed("backup", "--data-dir", str(tmp_path), "--output", str(tmp_path / "b"))
    assert empty.exit_code == 1
    assert "no webfed database" in empty.output


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_at_pg_dump(command: str, tmp_path: Path) -> None:
    option = "--output" if command == "backup" else "--input"
    result = webfed(
        command,
        *("--database-url", "postgresql+psycopg://webfed@127.0.0.1:1/webfed"),
        *(option, str(tmp_path / "file")),
    )
    assert result.exit_code == 2
    assert "pg_dump -Fc" in result.output
    assert "docs/operations.md" in result.output
