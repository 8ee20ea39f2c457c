"""The public surface of webfed.protocol's modules is an explicit, importable ``__all__``."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["javaregex", "json11", "models", "query", "scalars", "shapes", "validate", "xml"]


@pytest.mark.parametrize("name", MODULES, ids=MODULES)
def test_all_names_exist_and_public_names_are_listed(name: str) -> None:
    module = importlib.import_module(f"webfed.protocol.{name}")
    exported = set(module.__all__)
    assert all(hasattr(module, item) for item in exported)
    defined_here = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and callable(value)
    }
    assert defined_here <= exported
