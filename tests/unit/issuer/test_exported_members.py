"""The issuer's public API is exactly each module's ``__all__``."""

from __future__ import annotations

from types import ModuleType

import pytest

import webfed.issuer
import webfed.issuer.discovery
import webfed.issuer.keys
import webfed.issuer.routes
import webfed.issuer.store
import webfed.issuer.tokens

MODULES = [
    webfed.issuer,
    webfed.issuer.discovery,
    webfed.issuer.keys,
    webfed.issuer.routes,
    webfed.issuer.store,
    webfed.issuer.tokens,
]


@pytest.mark.parametrize("module", MODULES, ids=[module.__name__ for module in MODULES])
def test_all_names_exist_and_are_sorted(module: ModuleType) -> None:
    names: list[str] = module.__all__
    assert names == sorted(names, key=lambda name: (not name.isupper(), name[0].islower(), name))
    for name in names:
        assert hasattr(module, name), name
