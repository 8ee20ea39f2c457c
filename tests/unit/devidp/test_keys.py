"""The provider's key in the database, on SQLite and PostgreSQL: created once, shared, wrapped."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.unit.devidp.conftest import MASTER, NOW
from webfed.core.keys import MasterKey
from webfed.devidp import DEV_IDP_SIGNING, load_dev_idp_keys
from webfed.errors import MasterKeyError
from webfed.issuer import ISSUER_SIGNING, load_issuer_keys
from webfed.storage import Store, migrate


@pytest.fixture
async def store(fresh_database_url: str) -> AsyncIterator[Store]:
    migrate(fresh_database_url)
    opened = await Store.open(fresh_database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_created_once_reused_wrapped_and_apart(store: Store) -> None:
    """One test per fresh database (PostgreSQL's are slow to make): created on first use,
    the same key later, stored wrapped, distinct from the issuer key, bound to the master."""
    first = await load_dev_idp_keys(store, MASTER, NOW, random.Random(1))
    later = await load_dev_idp_keys(store, MASTER, NOW + timedelta(days=30))
    assert first.kids == later.kids and len(first.kids) == 1
    assert first.jwks() == later.jwks()
    (row,) = await store.keys.list(DEV_IDP_SIGNING)
    assert row.purpose == DEV_IDP_SIGNING and row.retired_at is None
    assert first.current.pkcs8() not in row.wrapped

    issuer = await load_issuer_keys(store, MASTER, NOW)
    assert set(issuer.kids).isdisjoint(first.kids)
    assert [row.key_id for row in await store.keys.list(ISSUER_SIGNING)] == list(issuer.kids)
    with pytest.raises(MasterKeyError):
        await load_dev_idp_keys(store, MasterKey(bytes(32)), NOW)


async def test_workers_starting_together_share_one_key(store: Store) -> None:
    results = await asyncio.gather(*(load_dev_idp_keys(store, MASTER, NOW) for _ in range(3)))
    assert len({keys.kids for keys in results}) == 1
    assert len(await store.keys.list(DEV_IDP_SIGNING)) == 1
