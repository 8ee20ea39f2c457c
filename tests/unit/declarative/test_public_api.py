"""The package's public names are exactly ``__all__`` (others code against them)."""

from __future__ import annotations

import inspect

import webfed.cli_declarative
import webfed.declarative


def test_exported_members_are_all_public_names() -> None:
    exported = set(webfed.declarative.__all__)
    public = {
        name
        for name, value in vars(webfed.declarative).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert exported == public


def test_apply_file_signature_is_stable() -> None:
    parameters = inspect.signature(webfed.declarative.apply_file).parameters
    assert list(parameters) == ["store", "settings", "path", "dry_run", "prune", "operations"]
    assert parameters["dry_run"].kind is inspect.Parameter.KEYWORD_ONLY


def test_cli_exports_the_commands_the_main_cli_registers() -> None:
    assert set(webfed.cli_declarative.__all__) == {"apply", "apply_at_start", "export"}
    assert webfed.cli_declarative.apply.name == "apply"
    assert webfed.cli_declarative.export.name == "export"
