"""``webfed backup`` and ``webfed restore``: the SQLite database, online, checked both ways.

    webfed backup --data-dir DIR --output webfed-2026-11-26.db      # while the server runs
    webfed restore --data-dir NEWDIR --input webfed-2026-11-26.db   # servers on NEWDIR stopped

The master key is not in the backup, and ``backup`` has no option to put it there: the
database holds every sealing and signing key wrapped by the master key, so a backup file that
carried its master key would hand anyone who gets a copy (an object store, a ticket, a laptop)
the power to mint session tokens and sign identity tokens. Backups travel; the master key must
not travel with them. Keep it in a secret store, once, apart from the backups; ``restore``
checks that the master key it is given opens the backup's keys before it replaces anything.

PostgreSQL deployments use ``pg_dump`` and ``pg_restore``; both commands refuse and say so
(``docs/operations.md``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from webfed.cli_options import resolve_settings, store_options
from webfed.core.keys import MasterKey
from webfed.errors import MasterKeyError
from webfed.master_key import MASTER_KEY_FILE, load_or_create_master_key, parse_master_key
from webfed.settings import Settings
from webfed.storage.backup import BackupError, backup_sqlite, inspect_backup, restore_sqlite
from webfed.storage.engine import is_sqlite, parse_database_url

__all__ = ["backup", "restore"]

_POSTGRES = (
    "webfed {command} works on the SQLite database; with PostgreSQL use pg_dump -Fc and "
    "pg_restore as docs/operations.md describes, and keep the master key apart from the dump"
)


def _sqlite_file(settings: Settings, command: str) -> Path:
    url = parse_database_url(settings.effective_database_url)
    if not is_sqlite(url) or not url.database:
        raise click.UsageError(_POSTGRES.format(command=command))
    return Path(url.database)


def _master_reminder(settings: Settings) -> str:
    source = (
        "WEBFED_MASTER_KEY"
        if settings.master_key is not None
        else str(settings.data_dir / MASTER_KEY_FILE)
    )
    return (
        f"The master key is NOT in the backup ({source}). Without it the backup's keys "
        "cannot be opened: keep a copy in a safe place, apart from the backups."
    )


@click.command()
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The backup file to write.",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@store_options
def backup(output: Path, force: bool, **options: Any) -> None:
    """Copy the SQLite database to OUTPUT while the server keeps running."""
    settings = resolve_settings(options)
    database = _sqlite_file(settings, "backup")
    try:
        report = backup_sqlite(database, output, overwrite=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written to {report.path} ({report.size} bytes, schema {report.revision})")
    click.echo(_master_reminder(settings), err=True)


def _given_master_key(settings: Settings) -> MasterKey:
    """The master key to restore with; never a new one (it could open nothing)."""
    try:
        if settings.master_key is not None:
            return parse_master_key(settings.master_key.get_secret_value())
        key_file = settings.data_dir / MASTER_KEY_FILE
        if not key_file.exists():
            raise click.UsageError(
                f"no master key: put the backup's master key in {key_file} (mode 0600) "
                "or set WEBFED_MASTER_KEY, then restore"
            )
        return load_or_create_master_key(settings.data_dir, None)[0]
    except MasterKeyError as error:
        raise click.ClickException(str(error)) from None


async def _open_keys(database: Path, master: MasterKey) -> int:
    from webfed.storage import Store

    store = await Store.open(f"sqlite+aiosqlite:///{database.resolve()}")
    try:
        stored = await store.keys.list()
        for key in stored:
            key.unwrap(master)
    finally:
        await store.close()
    return len(stored)


def _master_key_check(master: MasterKey) -> Any:
    def verify(database: Path) -> None:
        try:
            asyncio.run(_open_keys(database, master))
        except MasterKeyError:
            raise BackupError(
                "the master key given does not open this backup's keys; restore with the "
                "master key that was in use when the backup was made"
            ) from None

    return verify


@click.command()
@click.option(
    "--input",
    "-i",
    "input_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file written by webfed backup.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing database (it is kept beside it as webfed.db.replaced-TIME).",
)
@store_options
def restore(input_path: Path, force: bool, **options: Any) -> None:
    """Replace the SQLite database by a backup, migrated to this webfed's schema."""
    settings = resolve_settings(options)
    database = _sqlite_file(settings, "restore")
    try:
        inspect_backup(input_path)  # a bad file is reported before anything else
    except BackupError as error:
        raise click.ClickException(f"{input_path}: {error}") from None
    master = _given_master_key(settings)
    try:
        report = restore_sqlite(
            input_path, database, overwrite=force, verify=_master_key_check(master)
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    migrated = "" if report.from_revision == report.revision else f", migrated to {report.revision}"
    click.echo(
        f"restored {input_path} into {report.database} (schema {report.from_revision}{migrated})"
    )
    if report.replaced is not None:
        click.echo(f"the database it replaced was kept as {report.replaced}", err=True)
