"""Storage tests: a migrated Store per backend, and a fresh account id per test."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import create_postgres_database, drop_postgres_database
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


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet (a PostgreSQL one is dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    url = create_postgres_database("webfed_migrate")
    try:
        yield url
    finally:
        drop_postgres_database(url)
