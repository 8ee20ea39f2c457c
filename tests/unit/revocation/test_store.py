"""The ``session_revocations`` repository on SQLite and PostgreSQL: add, list, load the live rules,
the change-detection version, pruning (on demand and with every add)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from webfed.revocation import RevocationKind, Revocations
from webfed.storage import Store, migrate

NOW = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"


@pytest.fixture
async def store(fresh_database_url: str) -> AsyncIterator[Store]:
    migrate(fresh_database_url)
    opened = await Store.open(fresh_database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_rules_round_trip(store: Store) -> None:
    first, pruned = await store.revocations.add(
        account_id=ACCOUNT,
        kind=RevocationKind.SUBJECT,
        target="user|42",
        provider="accounts.google.com",
        issued_before=NOW,
        now=NOW + timedelta(seconds=1),
        reason="lost phone",
    )
    assert pruned == 0
    second, _ = await store.revocations.add(
        account_id=OTHER_ACCOUNT,
        kind=RevocationKind.ALL,
        target="*",
        issued_before=NOW,
        now=NOW,
    )
    assert second.rule_id > first.rule_id
    assert await store.revocations.list(ACCOUNT) == (first,)
    assert await store.revocations.list() == (first, second)
    stored = (await store.revocations.list(ACCOUNT))[0]
    assert stored.issued_before == NOW
    assert stored.issued_before.tzinfo is not None
    assert stored.kind is RevocationKind.SUBJECT
    assert (stored.provider, stored.reason) == ("accounts.google.com", "lost phone")


async def test_only_live_rules_are_loaded_and_old_ones_pruned(store: Store) -> None:
    old, _ = await store.revocations.add(
        account_id=ACCOUNT,
        kind=RevocationKind.ROLE,
        target=f"arn:aws:iam::{ACCOUNT}:role/Old",
        issued_before=NOW - timedelta(hours=13),
        now=NOW - timedelta(hours=1),
    )
    live, _ = await store.revocations.add(
        account_id=ACCOUNT,
        kind=RevocationKind.ROLE,
        target=f"arn:aws:iam::{ACCOUNT}:role/Live",
        issued_before=NOW - timedelta(hours=12, minutes=59),
        now=NOW - timedelta(hours=1),
    )
    assert await store.revocations.active(NOW) == (live,)
    assert await store.revocations.prune(NOW) == 1
    assert await store.revocations.list() == (live,)
    assert await store.revocations.prune(NOW) == 0
    # adding a rule prunes in the same transaction
    _, pruned = await store.revocations.add(
        account_id=ACCOUNT,
        kind=RevocationKind.ALL,
        target="*",
        issued_before=NOW,
        now=NOW + timedelta(hours=1),
    )
    assert pruned == 1
    assert old.rule_id not in {rule.rule_id for rule in await store.revocations.list()}


async def test_the_version_moves_with_every_change(store: Store) -> None:
    """Even a delete and an insert between two polls: ids are never reused."""
    assert await store.revocations.version() == (0, 0)
    expired, _ = await store.revocations.add(
        account_id=ACCOUNT,
        kind=RevocationKind.ALL,
        target="*",
        issued_before=NOW - timedelta(days=1),
        now=NOW - timedelta(days=1),
    )
    before = await store.revocations.version()
    assert before == (1, expired.rule_id)
    replacement, pruned = await store.revocations.add(
        account_id=ACCOUNT, kind=RevocationKind.ALL, target="*", issued_before=NOW, now=NOW
    )
    assert pruned == 1
    after = await store.revocations.version()
    assert after == (1, replacement.rule_id)
    assert after != before


async def test_a_process_set_follows_the_store(store: Store) -> None:
    revocations = Revocations(store.revocations, lambda: NOW)
    assert await revocations.refresh()
    assert len(revocations.get()) == 0
    await store.revocations.add(
        account_id=ACCOUNT,
        kind=RevocationKind.ACCESS_KEY,
        target="ASIAREVOKETESTKEY234",
        issued_before=NOW,
        now=NOW,
    )
    assert await revocations.refresh()
    assert len(revocations.get()) == 1
    assert not await revocations.refresh()
