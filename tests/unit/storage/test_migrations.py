"""Migrations: a fresh database reaches head, re-running is a no-op, concurrent starts are safe."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from webfed.storage import current_revision, head_revision, migrate
from webfed.storage.engine import create_sync_engine, sync_url

# The IAM tables (later migrations add tables of other areas).
TABLES = {
    "account_revisions",
    "alembic_version",
    "managed_policies",
    "oidc_provider_tags",
    "oidc_providers",
    "policy_tags",
    "policy_versions",
    "role_policies",
    "role_policy_attachments",
    "role_tags",
    "roles",
}


def _tables(url: str) -> set[str]:
    engine = create_sync_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_fresh_database_reaches_head(fresh_url: str) -> None:
    assert current_revision(fresh_url) is None
    migrate(fresh_url)
    assert current_revision(fresh_url) == head_revision()
    assert _tables(fresh_url) >= TABLES


def test_second_run_is_a_no_op(fresh_url: str) -> None:
    migrate(fresh_url)
    before = _tables(fresh_url)
    migrate(fresh_url)
    assert _tables(fresh_url) == before
    assert current_revision(fresh_url) == head_revision()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}"
    migrate(url)
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:////data/webfed.db", "sqlite+pysqlite:////data/webfed.db"),
        ("postgresql+psycopg://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ],
    ids=["sqlite", "postgresql"],
)
def test_sync_url(url: str, expected: str) -> None:
    assert sync_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    ["sqlite:///x.db", "postgresql+asyncpg://u@h/db", "mysql+aiomysql://u@h/db", "::not a url::"],
    ids=["sync-sqlite", "asyncpg", "mysql", "junk"],
)
def test_unsupported_urls_are_refused(url: str) -> None:
    from webfed.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        sync_url(url)


def _migrate_in_child(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait(timeout=30)
    migrate(url)


def test_two_processes_migrating_at_once(fresh_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    children = [
        context.Process(target=_migrate_in_child, args=(fresh_url, barrier)) for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
    assert [child.exitcode for child in children] == [0, 0]
    assert current_revision(fresh_url) == head_revision()
    assert _tables(fresh_url) >= TABLES


def test_folded_tag_keys_are_backfilled(fresh_url: str) -> None:
    """0004 fills ``folded_key`` in Python; keys that now fold together keep the first one."""
    migrate(fresh_url, "0003")
    role = {
        "role_id": "AROAFOLD",
        "account_id": "123456789012",
        "name": "Fold",
        "path": "/",
        "trust_policy": "{}",
        "max_session_duration": 3600,
        "create_date": datetime(2026, 1, 1, tzinfo=UTC),
    }
    keys = ["Équipe", "İK", "i\u0307k", "ẞ"]
    engine = create_sync_engine(fresh_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.table("roles", *map(sa.column, role)).insert().values(**role))
            tags = sa.table(
                "role_tags", sa.column("owner_id"), sa.column("key"), sa.column("value")
            )
            rows = [{"owner_id": "AROAFOLD", "key": key, "value": "v"} for key in keys]
            connection.execute(tags.insert(), rows)
        migrate(fresh_url)
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT key, folded_key FROM role_tags")).all()
    finally:
        engine.dispose()
    assert sorted(tuple(row) for row in stored) == [
        ("i\u0307k", "i\u0307k"),
        ("Équipe", "équipe"),
        ("ẞ", "ß"),
    ]
