"""A real ``webfed serve`` process per test module, on SQLite and on PostgreSQL.

Tests talk to it only through real clients: boto3 and the AWS CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from botocore.config import Config

from tests.support.ports import free_port

ADMIN_KEY_ID = "AKIAWEBFEDTESTADMIN1"
ADMIN_SECRET = "webfed-test-admin-secret-key-0000000000"
_PG_ENV = "WEBFED_TEST_DATABASE_URL"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped afterwards."""
    base = os.environ.get(_PG_ENV)
    if not base:
        pytest.skip(f"{_PG_ENV} is not set (CI sets it; see .ci/run)")
    admin_url = base.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"webfed_it_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    prefix, _, _ = base.rpartition("/")
    try:
        yield f"{prefix}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class WebfedServer:
    """One ``webfed serve`` child process."""

    def __init__(self, data_dir: Path, database_url: str | None, extra_env: dict[str, str]):
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"
        self._log_file: Any = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
        env.update(
            WEBFED_ADMIN_ACCESS_KEY_ID=ADMIN_KEY_ID,
            WEBFED_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET,
            WEBFED_DATA_DIR=str(self.data_dir),
            WEBFED_PORT=str(self.port),
            WEBFED_HOST="127.0.0.1",
            # The test identity providers listen on loopback, which issuer fetches refuse
            # unless allowed (docs/security.md, SSRF).
            WEBFED_ISSUER_ALLOWED_NETWORKS="127.0.0.0/8",
        )
        if self.database_url:
            env["WEBFED_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webfed", "serve"],
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_healthy(timeout)

    def wait_until_healthy(self, timeout: float) -> None:
        """Return once the started process answers ``/healthz``; stop it and raise if it exits
        first or does not answer within ``timeout`` seconds."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"webfed exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"webfed did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def client(self, service: str, **credentials: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=credentials.get("access_key_id", ADMIN_KEY_ID),
            aws_secret_access_key=credentials.get("secret_access_key", ADMIN_SECRET),
            aws_session_token=credentials.get("session_token"),
            # No client-side validation: every constraint must be enforced by the server.
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=False
            ),
        )

    def aws(self, *args: str, expect_ok: bool = True) -> Any:
        """Run the AWS CLI against this server; the parsed JSON output (or the failure)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=ADMIN_KEY_ID,
            AWS_SECRET_ACCESS_KEY=ADMIN_SECRET,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_MAX_ATTEMPTS="1",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        command = [sys.executable, "-m", "awscli", "--endpoint-url", self.url, "--output", "json"]
        result = subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        if expect_ok:
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout) if result.stdout.strip() else {}
        assert result.returncode != 0, result.stdout
        return result


def running_server(database: str, data_dir: Path, env: dict[str, str]) -> Iterator[WebfedServer]:
    """The body of a fixture parametrized ``sqlite`` / ``postgresql``: a started server on
    ``database`` (a fresh PostgreSQL database, dropped afterwards), stopped at the end."""
    if database == "sqlite":
        instance = WebfedServer(data_dir, None, env)
        instance.start()
        yield instance
        instance.stop()
        return
    with fresh_postgres_database() as url:
        instance = WebfedServer(data_dir, url, env)
        instance.start()
        yield instance
        instance.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebfedServer]:
    yield from running_server(request.param, tmp_path_factory.mktemp("webfed"), {})


@pytest.fixture(scope="module")
def iam(server: WebfedServer) -> Any:
    return server.client("iam")


@pytest.fixture(scope="module")
def sts(server: WebfedServer) -> Any:
    return server.client("sts")
