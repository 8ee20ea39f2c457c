"""Two processes creating the identity of one login at once end with one identity.

This is the repository call ``GetId`` makes; each child opens its own Store (its own engine,
as two ``webfed serve`` processes would), waits at a barrier, then asks for the identity.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from multiprocessing.synchronize import Barrier
from typing import Any

from tests.unit.storage.conftest import NOW
from tests.unit.storage.test_identity_pools import make_pool
from webfed.storage import Store

ROUNDS = 3


async def _get_or_create(url: str, account: str, pool: str, subject: str, barrier: Barrier) -> str:
    store = await Store.open(url)
    try:
        await asyncio.to_thread(barrier.wait, 30)
        identity, created = await store.identities.get_or_create_for_login(
            account,
            pool,
            "accounts.google.com",
            subject,
            new_identity_id=f"us-east-1:{uuid.uuid4()}",
            now=NOW,
        )
        return f"{identity.identity_id} {'created' if created else 'found'}"
    finally:
        await store.close()


def _child(url: str, account: str, pool: str, subject: str, barrier: Barrier, out: Any) -> None:
    out.put(asyncio.run(_get_or_create(url, account, pool, subject, barrier)))


def race(url: str, account: str, pool: str, subject: str) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    out = context.Queue()
    children = [
        context.Process(target=_child, args=(url, account, pool, subject, barrier, out))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    outcomes = sorted(out.get(timeout=60) for _ in children)
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0, 0]
    return outcomes


async def test_one_identity_per_login_under_a_race(
    store: Store, account: str, database_url: str
) -> None:
    pool = await make_pool(store, account)
    for round_number in range(ROUNDS):
        subject = f"racer-{round_number}"
        outcomes = race(database_url, account, pool, subject)
        ids = {outcome.split()[0] for outcome in outcomes}
        assert len(ids) == 1, outcomes
        assert sorted(outcome.split()[1] for outcome in outcomes) == ["created", "found"]
        stored = await store.identities.find_by_login(pool, "accounts.google.com", subject)
        assert stored is not None and stored.identity_id in ids
    page = await store.identities.list(account, pool, after=None, limit=60, hide_disabled=False)
    assert len(page.identities) == ROUNDS
