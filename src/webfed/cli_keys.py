"""``webfed keys``: the session-token sealing keys (list, rotate); ``rotate --issuer`` rotates
webfed's OpenID issuer signing key (``docs/issuer.md``).

Rotation adds a new current key; sessions sealed by the previous key keep working until the
longest session it could have sealed has expired (``docs/credentials.md``). Every node picks up a
rotation within a minute (the runtime reloads its key ring).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from webfed.cli_options import resolve_settings, store_options
from webfed.issuer import ISSUER_SIGNING, load_issuer_keys, rotate_issuer_keys
from webfed.master_key import load_or_create_master_key
from webfed.settings import Settings
from webfed.storage import Store, migrate
from webfed.storage.keys import SEALING, load_key_ring, rotate_keys

__all__ = ["keys"]


@click.group()
def keys() -> None:
    """Session-token sealing keys."""


def _prepare(options: dict[str, Any]) -> Settings:
    settings = resolve_settings(options)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.effective_database_url)
    return settings


def _master(settings: Settings) -> Any:
    secret = settings.master_key.get_secret_value() if settings.master_key else None
    master, created = load_or_create_master_key(settings.data_dir, secret)
    if created:
        click.echo(f"Master key created in {settings.data_dir}", err=True)
    return master


def _require_database(settings: Settings) -> None:
    """Reading commands never create a database: a mistyped --data-dir is an error."""
    if settings.database_url is None and not (settings.data_dir / "webfed.db").exists():
        raise click.UsageError(f"no webfed database in {settings.data_dir}")


@keys.command("list")
@click.option("--issuer", is_flag=True, help="List the OpenID issuer signing keys instead.")
@store_options
def list_keys(issuer: bool, **options: Any) -> None:
    """Show every stored key: id, created, retired, usable until (reads only)."""
    settings = resolve_settings(options)
    _require_database(settings)

    async def run() -> None:
        store = await Store.open(settings.effective_database_url)
        try:
            stored = await store.keys.list(ISSUER_SIGNING if issuer else SEALING)
        except SQLAlchemyError as error:
            raise click.ClickException(
                f"cannot read the sealing keys ({type(error).__name__}): run `webfed db upgrade`"
            ) from None
        finally:
            await store.close()
        if not stored:
            click.echo("no keys yet: the server creates the first one when it starts")
            return
        table = Table("key id", "created", "retired", "usable until")
        for key in stored:
            table.add_row(
                key.key_id,
                key.created_at.isoformat(),
                key.retired_at.isoformat() if key.retired_at else "(current)",
                key.not_after.isoformat() if key.not_after else "-",
            )
        Console().print(table)

    asyncio.run(run())


@keys.command("rotate")
@click.option(
    "--issuer",
    is_flag=True,
    help="Rotate webfed's OpenID issuer signing key instead (docs/issuer.md).",
)
@store_options
def rotate(issuer: bool, **options: Any) -> None:
    """Make a new current sealing key; the old one keeps unsealing its sessions."""
    settings = _prepare(options)
    master = _master(settings)

    async def run() -> None:
        store = await Store.open(settings.effective_database_url)
        try:
            if issuer:
                await load_issuer_keys(store, master, datetime.now(UTC))
                signing = await rotate_issuer_keys(store, master, datetime.now(UTC))
                click.echo(f"new current issuer signing key: {signing.kid}")
                return
            await load_key_ring(store, master, datetime.now(UTC))
            key = await rotate_keys(store, master, datetime.now(UTC))
        finally:
            await store.close()
        click.echo(f"new current sealing key: {key.key_id}")

    asyncio.run(run())
