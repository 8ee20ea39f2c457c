"""Liveness and readiness of a real ``webfed serve``, and of the gateway's app.

Readiness must turn 503 with a reason when the database cannot be used, and come back to 200 by
itself when it can again, while liveness stays 200 throughout (an orchestrator restarting every
process during a database outage would make it worse). The database is taken away
deterministically: on PostgreSQL the server's database stops accepting connections and its
sessions are ended; on SQLite the file is moved away from the configured path (the process
would otherwise keep using a file nobody else sees).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.integration.conftest import WebfedServer, fresh_postgres_database
from webfed.gateway.app import HEALTH_PATH, LIVENESS_PATH, READINESS_PATH, GatewayApp
from webfed.gateway.cors import CorsPolicy


def _get(server: WebfedServer, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", timeout=10)


def _wait_for_status(server: WebfedServer, path: str, status: int) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        response = _get(server, path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_sqlite_file_moved_away_is_not_ready_until_it_is_back(tmp_path: Path) -> None:
    server = WebfedServer(tmp_path / "data", None, {})
    server.start()
    assert _get(server, "/livez").json() == {"status": "alive"}
    assert _get(server, "/readyz").json() == {"status": "ok"}
    assert _get(server, "/healthz").json() == {"status": "ok"}
    database = server.data_dir / "webfed.db"
    moved = server.data_dir / "elsewhere.db"
    try:
        os.rename(database, moved)
        for path in ("/readyz", "/healthz"):
            refused = _get(server, path)
            assert refused.status_code == 503
            assert refused.json()["status"] == "unavailable"
            assert "moved or replaced" in refused.json()["reason"]
            assert str(server.data_dir) not in refused.text  # no path on an open endpoint
        assert _get(server, "/livez").status_code == 200
        os.rename(moved, database)
        assert _get(server, "/readyz").json() == {"status": "ok"}
        server.client("iam").list_roles()  # and it serves again, without a restart
    finally:
        server.stop()
    assert "not ready" in server.log() and "ready again" in server.log()


@pytest.fixture
def postgres_server(tmp_path: Path) -> Iterator[tuple[WebfedServer, str]]:
    with fresh_postgres_database() as url:
        server = WebfedServer(tmp_path / "data", url, {})
        server.start()
        try:
            yield server, url
        finally:
            server.stop()


def _admin_url(url: str) -> tuple[str, str]:
    base, _, name = url.rpartition("/")
    admin = f"{base}/postgres".replace("postgresql+psycopg://", "postgresql://", 1)
    return admin, name


def _set_connections(url: str, allowed: bool) -> None:
    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}'
        )
        if not allowed:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def test_postgresql_refusing_connections_is_not_ready_until_it_accepts_again(
    postgres_server: tuple[WebfedServer, str],
) -> None:
    server, url = postgres_server
    _set_connections(url, allowed=False)
    try:
        refused = _wait_for_status(server, "/readyz", 503)
        assert refused.status_code == 503
        assert refused.json()["reason"].startswith("database unavailable (")
        assert _get(server, "/healthz").status_code == 503
        assert _get(server, "/livez").status_code == 200
    finally:
        _set_connections(url, allowed=True)
    assert _wait_for_status(server, "/readyz", 200).json() == {"status": "ok"}
    server.client("iam").list_roles()


# --- the gateway's app, in-process ----------------------------------------------------------


class _Idle:
    async def handle(self, scope: Any, receive: Any, send: Any, record: Any) -> None:
        raise AssertionError("health paths never reach the handler")


def _gateway(problems: list[str | None]) -> GatewayApp:
    async def start() -> Any:
        return _Idle()

    async def stop() -> None:
        return None

    async def probe() -> str | None:
        return problems[-1]

    return GatewayApp("s3", CorsPolicy.of([]), start=start, stop=stop, probe=probe)


async def test_gateway_livez_and_readyz_follow_start_probe_and_shutdown() -> None:
    problems: list[str | None] = [None]
    app = _gateway(problems)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        assert (await http.get(LIVENESS_PATH)).json() == {"status": "alive"}
        starting = await http.get(READINESS_PATH)
        assert (starting.status_code, starting.json()["reason"]) == (503, "starting")
        await app.startup()
        assert (await http.get(READINESS_PATH)).json() == {"status": "ok"}
        problems.append("database unavailable (OperationalError)")
        down = await http.get(READINESS_PATH)
        assert down.status_code == 503
        assert down.json() == {
            "status": "unavailable",
            "reason": "database unavailable (OperationalError)",
        }
        assert (await http.get(HEALTH_PATH)).status_code == 200  # healthz: started, as before
        problems.append(None)
        assert (await http.get(READINESS_PATH)).status_code == 200
        await app.shutdown()
        stopping = await http.get(READINESS_PATH)
        assert (stopping.status_code, stopping.json()["reason"]) == (503, "shutting down")
        assert (await http.get(LIVENESS_PATH)).status_code == 200
