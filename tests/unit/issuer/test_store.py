"""Issuer keys in the database, on SQLite and PostgreSQL: first start, races, rotation, pruning."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from tests.unit.issuer.conftest import NOW
from webfed.core.keys import MasterKey
from webfed.errors import MasterKeyError
from webfed.issuer import (
    ISSUER_SIGNING,
    PUBLISH_GRACE,
    SIGNING_LEAD,
    load_issuer_keys,
    rotate_issuer_keys,
)
from webfed.storage import Store, migrate
from webfed.storage.keys import SEALING, load_key_ring

MASTER = MasterKey(bytes(range(32)))


@pytest.fixture
async def store(fresh_database_url: str) -> AsyncIterator[Store]:
    migrate(fresh_database_url)
    opened = await Store.open(fresh_database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_first_start_creates_one_key_and_reuses_it(store: Store) -> None:
    first = await load_issuer_keys(store, MASTER, NOW, random.Random(1))
    again = await load_issuer_keys(store, MASTER, NOW + timedelta(minutes=1))
    assert first.kids == again.kids == (first.current.kid,)
    assert first.current.public_jwk() == again.current.public_jwk()
    rows = await store.keys.list(ISSUER_SIGNING)
    assert [row.key_id for row in rows] == [first.current.kid]
    assert rows[0].purpose == ISSUER_SIGNING and rows[0].retired_at is None


async def test_the_private_key_is_stored_wrapped(store: Store) -> None:
    keys = await load_issuer_keys(store, MASTER, NOW)
    (row,) = await store.keys.list(ISSUER_SIGNING)
    assert keys.current.pkcs8() not in row.wrapped
    numbers = keys.current.private.raw_value.private_numbers()  # type: ignore[union-attr]
    assert numbers.p.to_bytes(128, "big") not in row.wrapped


async def test_another_master_key_cannot_open_it(store: Store) -> None:
    await load_issuer_keys(store, MASTER, NOW)
    with pytest.raises(MasterKeyError) as caught:
        await load_issuer_keys(store, MasterKey(bytes(32)), NOW)
    assert "WEBFED_MASTER_KEY" in str(caught.value)


async def test_sealing_keys_and_issuer_keys_stay_apart(store: Store) -> None:
    ring = await load_key_ring(store, MASTER, NOW)
    keys = await load_issuer_keys(store, MASTER, NOW)
    assert ring.current.key_id != keys.current.kid
    assert [row.key_id for row in await store.keys.list(SEALING)] == [ring.current.key_id]
    await rotate_issuer_keys(store, MASTER, NOW + timedelta(minutes=1))
    assert (await load_key_ring(store, MASTER, NOW)).current.key_id == ring.current.key_id


async def test_two_nodes_starting_at_once_settle_on_one_key(fresh_database_url: str) -> None:
    migrate(fresh_database_url)
    stores = [await Store.open(fresh_database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(
                load_issuer_keys(store, MASTER, NOW, random.Random(seed))
                for seed, store in enumerate(stores)
            )
        )
        assert len({keys.current.kid for keys in results}) == 1
        rows = await stores[0].keys.list(ISSUER_SIGNING)
        assert [row.retired_at for row in rows] == [None]
    finally:
        for store in stores:
            await store.close()


async def test_rotation_keeps_the_old_key_published(store: Store) -> None:
    old = (await load_issuer_keys(store, MASTER, NOW - timedelta(days=1))).current
    new = await rotate_issuer_keys(store, MASTER, NOW)
    keys = await load_issuer_keys(store, MASTER, NOW)
    assert keys.kids == (old.kid, new.kid)
    assert keys.current.kid == new.kid
    assert keys.signing_key(NOW).kid == old.kid
    assert keys.signing_key(NOW + SIGNING_LEAD).kid == new.kid
    (old_row,) = [row for row in await store.keys.list(ISSUER_SIGNING) if row.key_id == old.kid]
    assert old_row.retired_at == NOW and old_row.not_after == NOW + PUBLISH_GRACE
    after_grace = await load_issuer_keys(store, MASTER, NOW + PUBLISH_GRACE)
    assert after_grace.kids == (new.kid,)


async def test_rotation_prunes_keys_past_their_grace(store: Store) -> None:
    first = (await load_issuer_keys(store, MASTER, NOW)).current
    second = await rotate_issuer_keys(store, MASTER, NOW + timedelta(hours=1))
    third = await rotate_issuer_keys(store, MASTER, NOW + timedelta(hours=1) + PUBLISH_GRACE)
    stored = [row.key_id for row in await store.keys.list(ISSUER_SIGNING)]
    assert first.kid not in stored
    assert stored == [second.kid, third.kid]


async def test_concurrent_rotations_leave_one_current_key(fresh_database_url: str) -> None:
    migrate(fresh_database_url)
    stores = [await Store.open(fresh_database_url) for _ in range(2)]
    try:
        await load_issuer_keys(stores[0], MASTER, NOW)
        await asyncio.gather(*(rotate_issuer_keys(store, MASTER, NOW) for store in stores))
        rows = await stores[0].keys.list(ISSUER_SIGNING)
        assert len(rows) == 3
        assert sum(row.retired_at is None for row in rows) == 1
        keys = await load_issuer_keys(stores[1], MASTER, NOW)
        assert len(keys.kids) == 3
    finally:
        for store in stores:
            await store.close()


def test_stored_der_is_pkcs8() -> None:
    """The wrapped payload is standard PKCS#8 DER that ``cryptography`` loads back."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from webfed.issuer import SigningKey

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = SigningKey.from_private_key("AAAAAAAA", private, NOW, None)
    loaded = serialization.load_der_private_key(key.pkcs8(), password=None)
    assert loaded.private_numbers() == private.private_numbers()  # type: ignore[union-attr]
