"""After start, the long-lived objects are out of the collector's sight; garbage is not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from webfed.http import app as app_module


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


@pytest.fixture
def restore_gc() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("restore_gc")
def test_startup_objects_are_frozen_and_garbage_is_collected_first() -> None:
    kept = [_Node() for _ in range(100)]
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    before = gc.get_freeze_count()
    app_module._freeze_startup_objects()
    assert gone() is None  # collected, not frozen
    assert gc.get_freeze_count() >= before + len(kept)
    assert not any(gc.is_tracked(node) and node in gc.get_objects(0) for node in kept)
