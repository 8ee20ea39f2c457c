"""The public surface of ``webfed.core.sigv4`` is exactly its ``__all__``."""

from __future__ import annotations

import webfed.core.sigv4 as sigv4


def test_all_lists_every_public_name_and_nothing_else() -> None:
    public = {
        name
        for name, value in vars(sigv4).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(sigv4.__name__)
    }
    constants = {name for name in sigv4.__all__ if name.isupper()}
    assert set(sigv4.__all__) == public | constants
    assert all(hasattr(sigv4, name) for name in sigv4.__all__)
