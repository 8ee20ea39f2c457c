"""The ``settings:`` section: defaults for ``webfed serve`` options, checked like the options.

Each key is a :class:`webfed.settings.Settings` field (``port``, ``public_url``,
``allow_http_issuers``...); a flag or a ``WEBFED_*`` variable still wins over the file. Secrets
(``master_key``, ``admin_secret_access_key``) are refused here: a configuration file is meant to
be committed and shared, so they belong in the environment. ``config`` itself is refused too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from webfed.declarative.schema import Config, read_config
from webfed.declarative.source import Json, Problem, raise_problems
from webfed.settings import Settings

__all__ = ["FORBIDDEN_SETTINGS", "read_settings_defaults", "settings_problems"]

FORBIDDEN_SETTINGS = frozenset({"config", "master_key", "admin_secret_access_key"})


class _FileOnlySettings(Settings):
    """The same fields and validators, fed only by the values given (no environment)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_problems(config: Config) -> list[Problem]:
    """Unknown, forbidden and invalid settings, each with its line."""
    problems: list[Problem] = []
    known = set(Settings.model_fields)
    for key in config.settings:
        where = f"settings.{key}"
        if key in FORBIDDEN_SETTINGS:
            message = f"{key!r} cannot be set in a file; use WEBFED_{key.upper()} instead"
            problems.append(Problem(message, config.line(where), where))
        elif key not in known:
            message = f"unknown setting {key!r} (expected one of: {', '.join(sorted(known))})"
            problems.append(Problem(message, config.line(where), where))
    if problems:
        return problems
    try:
        values: dict[str, Any] = dict(config.settings)
        _FileOnlySettings(**values)
    except pydantic.ValidationError as error:
        for detail in error.errors():
            key = str(detail["loc"][0]) if detail["loc"] else ""
            where = f"settings.{key}" if key else "settings"
            problems.append(Problem(str(detail["msg"]), config.line(where), where))
    return problems


def read_settings_defaults(path: Path) -> dict[str, Json]:
    """The checked ``settings:`` section of the file at ``path``, for ``webfed serve --config``.

    Raises :class:`webfed.errors.InvalidConfiguration` when the file or the section is invalid.
    """
    config, problems = read_config(path.read_text(encoding="utf-8"), path.parent)
    if config is not None:
        problems.extend(settings_problems(config))
    raise_problems(problems, str(path))
    assert config is not None
    return dict(config.settings)
