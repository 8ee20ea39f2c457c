"""The public API is exactly ``__all__`` (as httpx guards its own)."""

from __future__ import annotations

import pytest

import webfed.core.oidc
import webfed.jwks


@pytest.mark.parametrize("module", [webfed.core.oidc, webfed.jwks], ids=["core.oidc", "jwks"])
def test_all_names_exist_and_are_public(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names, key=lambda name: (not name.isupper(), name[0].islower(), name))
    for name in names:
        assert hasattr(module, name), name
    exported = {name for name in vars(module) if not name.startswith("_")}
    assert set(names) <= exported
