"""Storage tests: a migrated Store per backend, and a fresh account id per test."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from webfed.storage import Store, migrate

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}'
)
DOCUMENT = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


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
