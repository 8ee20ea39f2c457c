"""The per-node IAM cache: a load racing an invalidation is never kept; tables stay bounded."""

from __future__ import annotations

import asyncio
from typing import Any

from webfed import iam_cache
from webfed.iam_cache import IamCache


class _Roles:
    def __init__(self) -> None:
        self.answer: str | None = "old"
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def find(self, account_id: str, name: str) -> Any:
        self.calls += 1
        answer = self.answer  # the row as the database had it when the read began
        if self.gate is not None:
            await self.gate.wait()
        return answer


class _Iam:
    def __init__(self) -> None:
        self.roles = _Roles()
        self.current_revision = 1

    async def revision(self, account_id: str) -> int:
        return self.current_revision


class _Store:
    def __init__(self) -> None:
        self.iam = _Iam()


async def test_a_load_that_raced_an_invalidation_is_not_kept() -> None:
    store = _Store()
    cache = IamCache(store, "123456789012")  # type: ignore[arg-type]
    store.iam.roles.gate = asyncio.Event()
    loading = asyncio.create_task(cache.role("Game"))
    await asyncio.sleep(0)
    store.iam.roles.answer = "new"  # the administrator changes the role meanwhile
    store.iam.current_revision = 2
    assert await cache.refresh() is True
    store.iam.roles.gate.set()
    assert await loading == "old"  # this caller saw the old row, as any in-flight read may
    store.iam.roles.gate = None
    assert await cache.role("Game") == "new"  # but it was not cached
    assert store.iam.roles.calls == 2


async def test_hits_are_served_from_memory_until_the_revision_moves() -> None:
    store = _Store()
    cache = IamCache(store, "123456789012")  # type: ignore[arg-type]
    await cache.refresh()
    for _ in range(5):
        assert await cache.role("game") == "old"
    assert await cache.role("GAME") == "old"  # names are case-insensitive
    assert store.iam.roles.calls == 1
    assert await cache.refresh() is False
    store.iam.current_revision = 7
    assert await cache.refresh() is True
    await cache.role("game")
    assert store.iam.roles.calls == 2


async def test_tables_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(iam_cache, "MAX_ENTRIES", 3)
    store = _Store()
    store.iam.roles.answer = None  # misses are cached too, but never more than the bound
    cache = IamCache(store, "123456789012")  # type: ignore[arg-type]
    for index in range(10):
        await cache.role(f"probe-{index}")
    assert len(cache._roles) == 3
    assert list(cache._roles) == ["probe-7", "probe-8", "probe-9"]
