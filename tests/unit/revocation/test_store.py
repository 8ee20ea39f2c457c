"""The ``session_revocations`` repository on SQLite and PostgreSQL: add, list, load the live rules,
the change-detection version, pruning (on demand and with every add).

On PostgreSQL the session's shared database holds other tests' rules too, so each test uses
accounts of its own and checks the rule ids it wrote, never global counts.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from webfed.revocation import RevocationKind, RevocationRule, Revocations
from webfed.storage import Store, migrate

NOW = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    migrate(database_url)
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def account() -> str:
    return str(random.SystemRandom().randrange(10**11, 10**12))


async def _add(
    store: Store,
    account: str,
    kind: RevocationKind = RevocationKind.ALL,
    target: str = "*",
    *,
    before: datetime = NOW,
    now: datetime = NOW,
    **extra: str,
) -> tuple[RevocationRule, int]:
    return await store.revocations.add(
        account_id=account, kind=kind, target=target, issued_before=before, now=now, **extra
    )


async def test_rules_round_trip(store: Store, account: str) -> None:
    first, _ = await _add(
        store,
        account,
        RevocationKind.SUBJECT,
        "user|42",
        now=NOW + timedelta(seconds=1),
        provider="accounts.google.com",
        reason="lost phone",
    )
    second, _ = await _add(store, account)
    assert second.rule_id > first.rule_id
    assert await store.revocations.list(account) == (first, second)
    stored = (await store.revocations.list(account))[0]
    assert stored.issued_before == NOW
    assert stored.issued_before.tzinfo is not None
    assert stored.kind is RevocationKind.SUBJECT
    assert (stored.provider, stored.reason) == ("accounts.google.com", "lost phone")
    everyone = {rule.rule_id for rule in await store.revocations.list()}
    assert {first.rule_id, second.rule_id} <= everyone


async def test_only_live_rules_are_loaded_and_old_ones_pruned(store: Store, account: str) -> None:
    role = f"arn:aws:iam::{account}:role/Game"
    earlier = NOW - timedelta(hours=1)  # when both were written, neither had expired
    old, _ = await _add(
        store, account, RevocationKind.ROLE, role, before=NOW - timedelta(hours=13), now=earlier
    )
    live, _ = await _add(
        store,
        account,
        RevocationKind.ROLE,
        role,
        before=NOW - timedelta(hours=12, minutes=59),
        now=earlier,
    )
    loaded = {rule.rule_id for rule in await store.revocations.active(NOW)}
    assert live.rule_id in loaded
    assert old.rule_id not in loaded
    assert await store.revocations.prune(NOW) >= 1
    assert await store.revocations.list(account) == (live,)
    # Adding a rule prunes in the same transaction.
    _, pruned = await _add(store, account, now=NOW + timedelta(hours=1))
    assert pruned >= 1
    assert live.rule_id not in {rule.rule_id for rule in await store.revocations.list(account)}


async def test_the_version_moves_with_every_change(store: Store, account: str) -> None:
    """Even a delete and an insert between two polls: ids are never reused."""
    expired, _ = await _add(store, account, before=NOW - timedelta(days=1))
    before = await store.revocations.version()
    assert before[1] >= expired.rule_id
    replacement, pruned = await _add(store, account)
    assert pruned >= 1  # the expired rule went in the same transaction
    after = await store.revocations.version()
    assert after[1] == replacement.rule_id
    assert after != before
    assert await store.revocations.list(account) == (replacement,)


async def test_a_process_set_follows_the_store(store: Store, account: str) -> None:
    revocations = Revocations(store.revocations, lambda: NOW)
    assert await revocations.refresh()
    loaded = len(revocations.get())
    assert not await revocations.refresh()
    await _add(store, account, RevocationKind.ACCESS_KEY, "ASIAREVOKETESTKEY234")
    assert await revocations.refresh()
    assert len(revocations.get()) == loaded + 1
    assert not await revocations.refresh()
