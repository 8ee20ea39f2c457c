"""Backing up and restoring webfed's SQLite database while keeping every step checkable.

**Backup** (:func:`backup_sqlite`) copies the live database with SQLite's online backup API
(``sqlite3.Connection.backup``) in one step: the copy reads one snapshot inside one read
transaction, and in WAL mode the server's writers keep writing meanwhile, so the server needs
no pause and the copy is exactly the database as of one commit. The copy is made in a temporary
file beside the output (mode 0600: it holds wrapped keys and every policy), switched to a
rollback journal so that it is one self-contained file, checked (``PRAGMA integrity_check``, a
webfed schema revision this webfed knows), flushed to disk, and only then renamed into place: an
interrupted backup never leaves a half-written file under the output's name.

**Restore** (:func:`restore_sqlite`) refuses anything that is not a sound webfed database of a
known schema revision, refuses to replace a database some process has open (a server would keep
using the file it opened, which the restore unlinks), and refuses to replace any database
without ``overwrite``. The backup is copied beside the target, migrated to the newest schema
there, checked by the caller's ``verify`` (the CLI checks that the master key opens its keys),
and only then renamed over the target; the database it replaces is kept beside it
(``webfed.db.replaced-<UTC time>``).

Neither handles the master key, which is deliberately not in the database: see
``docs/operations.md``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory

from webfed.storage import migrations
from webfed.storage.migrate import head_revision, migrate

__all__ = [
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "backup_sqlite",
    "database_in_use",
    "inspect_backup",
    "inspect_database",
    "restore_sqlite",
]

_REQUIRED_TABLES = frozenset({"alembic_version", "account_revisions", "roles", "sealing_keys"})
_SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message tells the operator why."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size: int
    revision: str


@dataclass(frozen=True, slots=True)
class RestoreReport:
    database: Path
    from_revision: str
    revision: str
    replaced: Path | None  # where the database it replaced was kept


def _known_revisions() -> frozenset[str]:
    scripts = ScriptDirectory(str(Path(migrations.__file__).parent))
    return frozenset(script.revision for script in scripts.walk_revisions())


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change ``path`` (a backup file, not a live database)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def inspect_database(connection: sqlite3.Connection) -> str:
    """The schema revision of a sound webfed database; :class:`BackupError` otherwise."""
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check(20)")]
        if problems != ["ok"]:
            raise BackupError("the database is damaged: " + "; ".join(map(str, problems[:5])))
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if not tables >= _REQUIRED_TABLES:
            raise BackupError("a SQLite database, but not a webfed database")
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"not a readable SQLite database ({error})") from None
    if len(rows) != 1:
        raise BackupError("a webfed database without a single schema revision")
    revision = str(rows[0][0])
    if revision not in _known_revisions():
        raise BackupError(
            f"schema revision {revision!r} is unknown to this webfed (made by a newer one?)"
        )
    return revision


def inspect_backup(path: Path) -> str:
    """The schema revision of the backup file ``path``, opened read-only; or
    :class:`BackupError` saying why it cannot be restored."""
    _looks_like_sqlite(path)
    connection = _read_only(path)
    try:
        return inspect_database(connection)
    finally:
        connection.close()


def _looks_like_sqlite(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError("no such file") from None
    except OSError as error:
        raise BackupError(f"cannot be read ({error.strerror})") from None
    if header != _SQLITE_MAGIC:
        raise BackupError("not a SQLite database")


@contextlib.contextmanager
def _draft_beside(target: Path) -> Iterator[Path]:
    """An empty file, mode 0600, in ``target``'s directory; removed unless renamed away."""
    draft = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(descriptor)
    try:
        yield draft
    finally:
        for leftover in (draft, _sidecar(draft, "-wal"), _sidecar(draft, "-shm")):
            leftover.unlink(missing_ok=True)


def _sidecar(database: Path, suffix: str) -> Path:
    return database.with_name(database.name + suffix)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(draft: Path, target: Path, *, overwrite: bool) -> None:
    """Rename ``draft`` to ``target`` durably; without ``overwrite``, never over a file that
    appeared meanwhile (``os.link`` fails instead)."""
    _fsync(draft)
    if overwrite:
        os.replace(draft, target)
    else:
        try:
            os.link(draft, target)
        except FileExistsError:
            raise BackupError(f"{target} exists; add --force to replace it") from None
        draft.unlink()
    _fsync(target.parent)


def backup_sqlite(database: Path, output: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the live ``database`` to ``output``, consistently and atomically (module docstring)."""
    if not database.is_file():
        raise BackupError(f"no webfed database at {database}")
    if output.exists() and not overwrite:
        raise BackupError(f"{output} exists; add --force to replace it")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a directory")
    with _draft_beside(output) as draft:
        source = sqlite3.connect(database, timeout=30)
        try:
            copy = sqlite3.connect(draft)
            try:
                source.backup(copy)  # pages=-1: one step, hence one snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                revision = inspect_database(copy)
            finally:
                copy.close()
        except sqlite3.Error as error:
            raise BackupError(f"the backup failed ({error})") from None
        finally:
            source.close()
        _publish(draft, output, overwrite=overwrite)
    return BackupReport(output, output.stat().st_size, revision)


def database_in_use(database: Path) -> bool:
    """Whether another connection (a ``webfed serve``, a gateway) has ``database`` open.

    In WAL mode every open connection holds a shared lock on the database file; an exclusive
    lock is granted only when there is none. Not holding it afterwards, the answer can go
    stale, so the caller asks again right before replacing the file.
    """
    if not database.exists():
        return False
    connection = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        connection.execute("COMMIT")
        # Nobody else has it open: fold the write-ahead log into the file, so the copy kept
        # aside is complete on its own.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return True
        raise BackupError(f"{database} cannot be opened ({error})") from None
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{database} is not a readable SQLite database ({error})") from None
    finally:
        connection.close()
    return False


def restore_sqlite(
    backup: Path,
    database: Path,
    *,
    overwrite: bool = False,
    verify: Callable[[Path], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RestoreReport:
    """Replace ``database`` by ``backup``, migrated to the newest schema (module docstring).

    ``verify`` is called with the migrated copy before it replaces anything; it raises
    :class:`BackupError` to stop the restore.
    """
    from_revision = inspect_backup(backup)
    if database.exists() and not overwrite:
        raise BackupError(f"{database} exists; add --force to replace it")
    _refuse_if_in_use(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    with _draft_beside(database) as draft:
        source, copy = _read_only(backup), sqlite3.connect(draft)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        migrate(f"sqlite+aiosqlite:///{draft.resolve()}")
        if verify is not None:
            verify(draft)
        _settle(draft)
        replaced = _set_aside(database, now())
        _publish(draft, database, overwrite=True)
    return RestoreReport(database, from_revision, head_revision(), replaced)


def _settle(database: Path) -> None:
    """Fold any write-ahead log into the file itself, so renaming the file moves everything."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def _refuse_if_in_use(database: Path) -> None:
    if database_in_use(database):
        raise BackupError(
            f"{database} is open in another process (a running webfed serve or gateway?); "
            "stop every process using it, then restore"
        )


def _set_aside(database: Path, now: datetime) -> Path | None:
    """Move the current database out of the way (asking again that nobody has it open)."""
    if not database.exists():
        return None
    _refuse_if_in_use(database)
    aside = database.with_name(f"{database.name}.replaced-{now:%Y%m%dT%H%M%SZ}")
    os.replace(database, aside)
    for suffix in ("-wal", "-shm"):  # checkpointed and empty, but never the new file's
        _sidecar(database, suffix).unlink(missing_ok=True)
    return aside
