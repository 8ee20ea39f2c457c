"""0007: providers gain a nullable static key set; existing rows are kept, and it reverts."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from webfed.storage import migrate
from webfed.storage.engine import WRITE_OPTION, create_sync_engine
from webfed.storage.migrate import _config

PROVIDER = {
    "account_id": "123456789012",
    "url": "https://idp.example.com",
    "resource": "idp.example.com",
    "client_ids": "[]",
    "thumbprints": "[]",
    "create_date": datetime(2026, 1, 1, tzinfo=UTC),
}


def _columns(engine: sa.Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("oidc_providers")}


def _downgrade(url: str, revision: str) -> None:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                config = _config()
                config.attributes["connection"] = connection
                command.downgrade(config, revision)
    finally:
        engine.dispose()


def test_existing_providers_keep_fetching_and_the_column_reverts(fresh_url: str) -> None:
    migrate(fresh_url, "0006")
    engine = create_sync_engine(fresh_url)
    providers = sa.table("oidc_providers", *map(sa.column, PROVIDER))
    try:
        with engine.begin() as connection:
            connection.execute(providers.insert().values(**PROVIDER))
        migrate(fresh_url)
        assert "static_jwks" in _columns(engine)
        with engine.connect() as connection:
            query = sa.text("SELECT resource, static_jwks FROM oidc_providers")
            assert [tuple(row) for row in connection.execute(query)] == [("idp.example.com", None)]
        _downgrade(fresh_url, "0006")
        assert "static_jwks" not in _columns(engine)
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM oidc_providers")).scalar()
        assert count == 1
    finally:
        engine.dispose()
