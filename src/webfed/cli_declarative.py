"""``webfed apply -f FILE`` and ``webfed export``: IAM state as a file (see docs/configuration.md).

Both take the store options of ``webfed serve`` (``--data-dir``, ``--database-url``,
``--account-id``, ``--region``, ``--allow-http-issuers``), each also a ``WEBFED_*`` variable.
For ``apply``, the file's own ``settings:`` section supplies defaults for them, below flags and
variables, as it does for ``webfed serve --config``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from webfed.declarative.apply import (
    ApplyReport,
    apply_to_store,
    export_state,
    load_config,
    load_config_file,
)
from webfed.declarative.render import render_problems, render_report
from webfed.declarative.schema import Config
from webfed.errors import InvalidConfiguration
from webfed.settings import Settings

__all__ = ["apply", "apply_at_start", "export"]

_F = TypeVar("_F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--data-dir", type=click.Path(path_type=Path), help="Where SQLite and key files live."
    ),
    click.option("--database-url", help="postgresql+psycopg://… to share state between nodes."),
    click.option("--account-id", help="The 12-digit account id in every ARN."),
    click.option("--region", help="The region webfed answers for."),
    click.option(
        "--allow-http-issuers", is_flag=True, default=None, help="Accept http:// issuers (tests)."
    ),
)


def _store_options(function: _F) -> _F:
    for option in reversed(_OPTIONS):
        function = option(function)
    return function


def _settings(options: dict[str, Any], file_defaults: dict[str, Any]) -> Settings:
    """Flags beat ``WEBFED_*`` variables, which beat the file's settings, which beat defaults."""
    values = {
        key: value
        for key, value in file_defaults.items()
        if f"WEBFED_{key.upper()}" not in os.environ
    }
    values.update({key: value for key, value in options.items() if value is not None})
    try:
        return Settings(**values)
    except ValueError as error:
        raise click.UsageError(str(error)) from error


def _prepare(settings: Settings) -> None:
    """Create the data directory and bring the schema up to date."""
    from webfed.storage import migrate

    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.effective_database_url)


async def _apply(
    settings: Settings, config: Config, source: str, *, dry_run: bool, prune: bool
) -> ApplyReport:
    from webfed.storage import Store

    store = await Store.open(settings.effective_database_url)
    try:
        return await apply_to_store(
            store, settings, config, source=source, dry_run=dry_run, prune=prune
        )
    finally:
        await store.close()


def _run_apply(
    settings: Settings, config: Config, source: str, console: Console, **flags: bool
) -> None:
    try:
        report = asyncio.run(_apply(settings, config, source, **flags))
    except InvalidConfiguration as error:
        _fail(error, console)
    render_report(report, console)
    if not report.ok:
        raise SystemExit(1)


def _fail(error: InvalidConfiguration, console: Console) -> NoReturn:
    render_problems(error.problems, console)
    raise SystemExit(1) from None


def _load(path: str, console: Console) -> tuple[Config, str]:
    """The configuration at ``path``, or on standard input for ``-``."""
    try:
        if path == "-":
            return load_config(sys.stdin.read(), "<stdin>"), "<stdin>"
        return load_config_file(Path(path)), path
    except InvalidConfiguration as error:
        _fail(error, console)


@click.command()
@click.option(
    "-f",
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    help="The configuration file (YAML); - reads standard input.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--prune", is_flag=True, help="Also delete what the file does not declare.")
@_store_options
def apply(path: str, dry_run: bool, prune: bool, **options: Any) -> None:
    """Create or update providers, policies and roles to match FILE; print what changed."""
    console = Console(highlight=False, soft_wrap=True)
    config, source = _load(path, console)
    settings = _settings(options, dict(config.settings))
    _prepare(settings)
    _run_apply(settings, config, source, console, dry_run=dry_run, prune=prune)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@_store_options
def export(output: Path | None, **options: Any) -> None:
    """Write the current providers, policies and roles as a configuration file."""
    settings = _settings(options, {})
    _prepare(settings)
    text = asyncio.run(_export(settings))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


async def _export(settings: Settings) -> str:
    from webfed.storage import Store

    store = await Store.open(settings.effective_database_url)
    try:
        return await export_state(store, settings)
    finally:
        await store.close()


def apply_at_start(settings: Settings, path: Path) -> None:
    """``webfed serve --config FILE``: apply the file before serving; exit 1 if it is invalid.

    The caller has already migrated the database. Output goes to standard error.
    """
    console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
    config, source = _load(str(path), console)
    _run_apply(settings, config, source, console, dry_run=False, prune=False)
