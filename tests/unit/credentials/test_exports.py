"""Each credentials module's public surface is exactly its ``__all__``: every listed name exists,
and every public class or function defined in the module is listed."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from webfed import master_key
from webfed.core import authz_message, credentials, keys, packed_policy
from webfed.storage import keys as stored_keys

MODULES = [credentials, keys, authz_message, packed_policy, master_key, stored_keys]


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
    assert defined_here <= exported
    assert len(module.__all__) == len(exported)
