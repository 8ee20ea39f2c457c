"""Options and settings resolution shared by every ``webfed`` command that opens the database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from webfed.settings import Settings

__all__ = ["resolve_settings", "store_options"]

# Options shared by every command that opens the database.
_STORE_OPTIONS = (
    click.option(
        "--data-dir", type=click.Path(path_type=Path), help="Where SQLite and key files live."
    ),
    click.option("--database-url", help="postgresql+psycopg://… to share state between nodes."),
    click.option(
        "--account-id", help="The 12-digit account id in every ARN (default 000000000000)."
    ),
    click.option("--region", help="The region webfed answers for (default us-east-1)."),
    click.option("--config", type=click.Path(path_type=Path, exists=True, dir_okay=False)),
)


def store_options(function: Any) -> Any:
    for option in reversed(_STORE_OPTIONS):
        function = option(function)
    return function


def _config_settings(path: Path | None) -> dict[str, Any]:
    """The checked ``settings:`` section of a declarative file, as option defaults."""
    if path is None:
        return {}
    from webfed.declarative.settings_section import read_settings_defaults
    from webfed.errors import InvalidConfiguration

    try:
        section = read_settings_defaults(path)
    except InvalidConfiguration as error:
        raise click.UsageError("\n".join(error.problems) or error.message) from error
    return {str(key).replace("-", "_"): value for key, value in section.items()}


def resolve_settings(options: dict[str, Any]) -> Settings:
    """Flags beat ``WEBFED_*`` variables, which beat the config file, which beats defaults."""
    values: dict[str, Any] = {}
    for key, value in _config_settings(options.get("config")).items():
        if f"WEBFED_{key.upper()}" not in os.environ:
            values[key] = value
    values.update({key: value for key, value in options.items() if value is not None})
    try:
        return Settings(**values)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
