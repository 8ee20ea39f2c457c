"""The identity pool repository's one-second memory for the unsigned flows: concurrent misses
share one read, and a read that raced a write through this process is not remembered."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.unit.storage.conftest import NOW
from tests.unit.storage.test_identity_pools import CONFIG, make_pool
from webfed.storage import Store
from webfed.storage.identity_models import IdentityPool


def _count_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    repository = store.identity_pools
    real_find = repository._find
    reads: list[str] = []

    async def counted(pool_id: str) -> IdentityPool | None:
        reads.append(pool_id)
        await asyncio.sleep(0.05)  # a slow read: the other calls arrive while it runs
        return await real_find(pool_id)

    monkeypatch.setattr(repository, "_find", counted)
    return reads


async def test_concurrent_misses_share_one_read(
    store: Store, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_id = await make_pool(store, account)
    reads = _count_reads(store, monkeypatch)
    found = await asyncio.gather(*(store.identity_pools.find(pool_id) for _ in range(20)))
    assert reads == [pool_id]
    assert {pool.pool_id for pool in found if pool is not None} == {pool_id}
    assert all(pool is found[0] for pool in found)
    await store.identity_pools.find(pool_id)  # remembered now
    assert reads == [pool_id]


async def test_a_read_racing_a_write_is_not_remembered(
    store: Store, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_id = await make_pool(store, account)
    reads = _count_reads(store, monkeypatch)
    racing = asyncio.ensure_future(store.identity_pools.find(pool_id))
    await asyncio.sleep(0)  # the read has started
    renamed = dataclasses.replace(CONFIG, name="renamed")
    await store.identity_pools.update(account, pool_id, renamed, tags=None, now=NOW)
    await racing  # whatever it saw, it must not be kept
    after = await store.identity_pools.find(pool_id)
    assert after is not None and after.config.name == "renamed"
    assert len(reads) == 2


async def test_a_failed_read_reaches_every_caller_and_is_not_remembered(
    store: Store, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_id = await make_pool(store, account)
    repository = store.identity_pools
    real_find = repository._find
    failures = 0

    async def failing_once(wanted: str) -> IdentityPool | None:
        nonlocal failures
        if not failures:
            failures += 1
            await asyncio.sleep(0.05)
            raise ConnectionError("database gone")
        return await real_find(wanted)

    monkeypatch.setattr(repository, "_find", failing_once)
    outcomes = await asyncio.gather(
        *(repository.find(pool_id) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    found = await repository.find(pool_id)
    assert found is not None and found.pool_id == pool_id
