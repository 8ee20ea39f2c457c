"""The serving engine's bounds on waiting for PostgreSQL, as the server really connects."""

from __future__ import annotations

import pytest

from webfed.storage.engine import PG_TCP_USER_TIMEOUT_MS, create_engine


async def _dsn(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            return str(raw.driver_connection.info.dsn)  # type: ignore[union-attr]
    finally:
        await engine.dispose()


async def test_connections_carry_the_liveness_and_wait_bounds(postgres_session_url: str) -> None:
    text = await _dsn(postgres_session_url)
    assert "options='-c lock_timeout=5000'" in text
    dsn = set(text.split())
    assert {
        "connect_timeout=5",
        "keepalives=1",
        "keepalives_idle=10",
        "keepalives_interval=5",
        "keepalives_count=3",
        f"tcp_user_timeout={PG_TCP_USER_TIMEOUT_MS}",
    } <= dsn


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tcp_user_timeout=2000", "tcp_user_timeout=2000"),
        ("keepalives_idle=60", "keepalives_idle=60"),
    ],
)
async def test_the_url_s_own_settings_win(
    postgres_session_url: str, query: str, expected: str
) -> None:
    dsn = (await _dsn(f"{postgres_session_url}?{query}")).split()
    assert expected in dsn
    name = query.partition("=")[0]
    assert [part for part in dsn if part.startswith(f"{name}=")] == [expected]
