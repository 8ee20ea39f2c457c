"""Fixtures shared by every test area. Keep this file small: areas add their own conftest.

``database_url`` runs a test once on SQLite (a fresh file in ``tmp_path``) and once on
PostgreSQL. The PostgreSQL database is created fresh for the test session on the server named
by ``WEBFED_TEST_DATABASE_URL`` and dropped at the end, so runs never see each other's rows;
within a session, tests isolate themselves (e.g. with their own account id).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.support import ports

POSTGRES_ENV = "WEBFED_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    """The run's port registry (``tests/support/ports.py``), made before xdist's workers start,
    so that they share it; they only use it."""
    if not hasattr(config, "workerinput"):
        ports.registry()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        ports.remove_registry()


def postgres_admin_url() -> str | None:
    """The server from ``WEBFED_TEST_DATABASE_URL`` as a plain psycopg URL, if configured."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        return None
    return base.replace("postgresql+psycopg://", "postgresql://", 1)


def create_postgres_database(prefix: str) -> str:
    """Create a uniquely named database; return its ``postgresql+psycopg://`` URL."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests need a server (CI sets it)")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = os.environ[POSTGRES_ENV].rpartition("/")[0]
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    admin = postgres_admin_url()
    assert admin is not None
    name = url.rpartition("/")[2]
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    url = create_postgres_database("webfed_test")
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database URL per backend: a fresh SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "webfed.db"
        return f"sqlite+aiosqlite:///{path}"
    return str(request.getfixturevalue("postgres_session_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``database_url``, but PostgreSQL too gets a database of its own for this one test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'webfed.db'}"
        return
    url = create_postgres_database("webfed_fresh")
    try:
        yield url
    finally:
        drop_postgres_database(url)
