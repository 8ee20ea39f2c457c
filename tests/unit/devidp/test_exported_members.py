"""The development provider's public API is exactly each module's ``__all__``."""

from __future__ import annotations

from types import ModuleType

import pytest

import webfed.devidp
import webfed.devidp.authorization
import webfed.devidp.claims
import webfed.devidp.grants
import webfed.devidp.keys
import webfed.devidp.page
import webfed.devidp.provider
import webfed.devidp.routes

MODULES = [
    webfed.devidp,
    webfed.devidp.authorization,
    webfed.devidp.claims,
    webfed.devidp.grants,
    webfed.devidp.keys,
    webfed.devidp.page,
    webfed.devidp.provider,
    webfed.devidp.routes,
]


@pytest.mark.parametrize("module", MODULES, ids=[module.__name__ for module in MODULES])
def test_all_names_exist_and_are_sorted(module: ModuleType) -> None:
    names: list[str] = module.__all__
    assert names == sorted(names, key=lambda name: (not name.isupper(), name[0].islower(), name))
    for name in names:
        assert hasattr(module, name), name
