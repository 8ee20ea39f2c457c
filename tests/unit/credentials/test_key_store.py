"""Stored sealing keys: first start, concurrent starts, rotation, grace, pruning, master keys.

Runs on SQLite, and on PostgreSQL when ``WEBFED_TEST_DATABASE_URL`` is set (``database_url``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.unit.credentials.conftest import NOW, full_session
from webfed.core.credentials import mint_credentials, unseal_session_token
from webfed.core.keys import RETIRED_KEY_GRACE, SEALING_LEAD, MasterKey
from webfed.errors import InvalidClientTokenId, MasterKeyError
from webfed.storage import Store, head_revision, migrate
from webfed.storage.keys import SEALING, StoredKey, load_key_ring, rotate_keys, sealing_keys

MASTER = MasterKey(bytes(range(32, 64)))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    migrate(database_url)
    opened = await Store.open(database_url)
    # Keys are global, and the PostgreSQL database is shared by the whole session: start clean.
    async with opened._db.engine.begin() as connection:
        await connection.execute(sa.delete(sealing_keys))
    try:
        yield opened
    finally:
        await opened.close()


def test_sealing_keys_revision_is_applied_by_head() -> None:
    # Later areas add revisions on top; the sealing-keys one must stay in the chain.
    assert int(head_revision()) >= 2


async def test_first_load_creates_one_current_key(store: Store) -> None:
    ring = await load_key_ring(store, MASTER, NOW, random.Random(1))
    stored = await store.keys.list()
    assert [key.key_id for key in stored] == [ring.current.key_id]
    assert stored[0].purpose == SEALING
    assert stored[0].retired_at is None
    assert ring.current.secret not in stored[0].wrapped
    again = await load_key_ring(store, MASTER, NOW + timedelta(minutes=5))
    assert again.current == ring.current


async def test_concurrent_first_starts_agree_on_one_key(database_url: str, store: Store) -> None:
    stores = [await Store.open(database_url) for _ in range(6)]
    try:
        rings = await asyncio.gather(
            *(
                load_key_ring(other, MASTER, NOW, random.Random(seed))
                for seed, other in enumerate(stores)
            )
        )
    finally:
        for other in stores:
            await other.close()
    assert len({ring.current.key_id for ring in rings}) == 1
    assert len(await store.keys.list()) == 1


async def test_rotation_keeps_old_tokens_valid_and_seals_with_the_new_key(store: Store) -> None:
    before = await load_key_ring(store, MASTER, NOW, random.Random(2))
    minted = mint_credentials(full_session(), key_ring=before, rng=random.Random(3))
    later = NOW + timedelta(minutes=10)
    new_key = await rotate_keys(store, MASTER, later, random.Random(4))
    meanwhile = await load_key_ring(store, MASTER, later)
    assert meanwhile.current.key_id == before.current.key_id, "the old key seals meanwhile"
    after = await load_key_ring(store, MASTER, later + SEALING_LEAD)
    assert after.current == new_key
    assert after.key_ids == {before.current.key_id, new_key.key_id}
    unsealed = unseal_session_token(minted.session_token, minted.access_key_id, after)
    assert unsealed.session == full_session()
    rows = {key.key_id: key for key in await store.keys.list()}
    old = rows[before.current.key_id]
    assert old.retired_at == later
    assert old.not_after == later + RETIRED_KEY_GRACE
    assert rows[new_key.key_id].retired_at is None


async def test_old_key_stops_unsealing_after_its_grace(store: Store) -> None:
    before = await load_key_ring(store, MASTER, NOW, random.Random(5))
    minted = mint_credentials(full_session(), key_ring=before, rng=random.Random(6))
    await rotate_keys(store, MASTER, NOW, random.Random(7))
    past_grace = NOW + RETIRED_KEY_GRACE
    ring = await load_key_ring(store, MASTER, past_grace)
    assert before.current.key_id not in ring.key_ids
    with pytest.raises(InvalidClientTokenId):
        unseal_session_token(minted.session_token, minted.access_key_id, ring)


async def test_rotation_prunes_keys_past_their_grace(store: Store) -> None:
    first = (await load_key_ring(store, MASTER, NOW, random.Random(8))).current
    await rotate_keys(store, MASTER, NOW, random.Random(9))
    second_at = NOW + RETIRED_KEY_GRACE + timedelta(seconds=1)
    newest = await rotate_keys(store, MASTER, second_at, random.Random(10))
    ids = [key.key_id for key in await store.keys.list()]
    assert first.key_id not in ids
    assert newest.key_id in ids
    assert len(ids) == 2


async def test_concurrent_rotations_leave_exactly_one_current_key(
    database_url: str, store: Store
) -> None:
    await load_key_ring(store, MASTER, NOW, random.Random(11))
    stores = [await Store.open(database_url) for _ in range(4)]
    try:
        await asyncio.gather(
            *(
                rotate_keys(other, MASTER, NOW, random.Random(20 + n))
                for n, other in enumerate(stores)
            )
        )
    finally:
        for other in stores:
            await other.close()
    rows = await store.keys.list()
    assert len(rows) == 5
    assert sum(1 for row in rows if row.retired_at is None) == 1


async def test_a_second_current_key_is_refused_by_the_database(store: Store) -> None:
    ring = await load_key_ring(store, MASTER, NOW, random.Random(12))
    rows = await store.keys.list()
    duplicate = StoredKey("ZZZZZZZZ", SEALING, rows[0].wrapped, NOW, None, None)
    with pytest.raises(sa.exc.IntegrityError):
        await store.keys.add(duplicate)
    assert [key.key_id for key in await store.keys.list()] == [ring.current.key_id]


async def test_wrong_master_key_refuses_to_start(store: Store) -> None:
    await load_key_ring(store, MASTER, NOW, random.Random(13))
    with pytest.raises(MasterKeyError, match="master key"):
        await load_key_ring(store, MasterKey(bytes(32)), NOW)


async def test_blob_moved_to_another_row_is_refused(store: Store) -> None:
    ring = await load_key_ring(store, MASTER, NOW, random.Random(14))
    rows = await store.keys.list()
    await store.keys.retire(ring.current.key_id, now=NOW, not_after=NOW + RETIRED_KEY_GRACE)
    await store.keys.add(StoredKey("MOVEDBLB", SEALING, rows[0].wrapped, NOW, None, None))
    with pytest.raises(MasterKeyError):
        await load_key_ring(store, MASTER, NOW)


async def test_retire_is_idempotent(store: Store) -> None:
    ring = await load_key_ring(store, MASTER, NOW, random.Random(15))
    key_id = ring.current.key_id
    await store.keys.retire(key_id, now=NOW, not_after=NOW + RETIRED_KEY_GRACE)
    await store.keys.retire(key_id, now=NOW + timedelta(hours=1), not_after=NOW)
    (row,) = await store.keys.list()
    assert row.retired_at == NOW
    assert row.not_after == NOW + RETIRED_KEY_GRACE


def test_stored_key_repr_hides_the_blob() -> None:
    stored = StoredKey("ABCDEFGH", SEALING, b"\x01secret-bytes", NOW, None, None)
    assert "secret-bytes" not in repr(stored)
    assert "ABCDEFGH" in repr(stored)
