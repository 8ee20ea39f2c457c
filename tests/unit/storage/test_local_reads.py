"""The flows' lookups without SQLAlchemy's execution machinery give the rows SQLAlchemy gives:
same columns, same values, timestamps timezone-aware; other statements take the usual path."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from tests.unit.storage.conftest import NOW
from tests.unit.storage.test_identity_pools import make_pool
from webfed.storage import Store, migrate
from webfed.storage.identity_records import _BY_ID, _BY_LOGIN
from webfed.storage.identity_schema import identities, login_key
from webfed.storage.local_reads import prepare

ACCOUNT = "123456789012"


async def test_lookups_match_sqlalchemy_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'webfed.db'}"
    migrate(url)
    store = await Store.open(url)
    try:
        pool_id = await make_pool(store, ACCOUNT)
        identity, _ = await store.identities.get_or_create_for_login(
            ACCOUNT,
            pool_id,
            "id.example",
            "alice",
            new_identity_id=f"us-east-1:{uuid.uuid4()}",
            now=NOW,
        )
        await store.identities.link(
            identity.identity_id, "login.game", "dev-1", one_per_provider=False, now=NOW
        )
        database = store._db
        lookups = [
            (_BY_ID, {"identity_id": identity.identity_id}),
            (_BY_LOGIN, {"pool_id": pool_id, "key": login_key("id.example", "alice")}),
            (_BY_ID, {"identity_id": "us-east-1:missing"}),
        ]
        for statement, params in lookups:
            fast = await database.rows(statement, params)
            async with database.read() as connection:
                usual = [tuple(row) for row in await connection.execute(statement, params)]
            assert sorted(fast, key=repr) == sorted(usual, key=repr)
        found = await store.identities.find(identity.identity_id)
        assert found is not None
        assert found.logins == ("id.example", "login.game")
        assert found.create_date == NOW and found.create_date.tzinfo is not None
    finally:
        await store.close()


def test_only_string_parameters_qualify() -> None:
    dialect = sqlite.dialect()
    assert prepare(_BY_ID, dialect) is not None
    by_date = sa.select(identities).where(identities.c.create_date > sa.bindparam("after"))
    assert prepare(by_date, dialect) is None
