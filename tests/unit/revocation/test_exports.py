"""Each revocation module's public surface is exactly its ``__all__``."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from webfed import cli_sessions, revocation
from webfed.storage import revocations

MODULES = [revocation, revocations, cli_sessions]


@pytest.mark.parametrize("module", MODULES, ids=[module.__name__ for module in MODULES])
def test_all_is_the_public_surface(module: ModuleType) -> None:
    exported = set(module.__all__)
    assert all(hasattr(module, name) for name in exported)
    defined_here = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }
    assert defined_here <= exported, defined_here - exported
    assert len(module.__all__) == len(exported)
