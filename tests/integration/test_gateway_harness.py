"""The shared set-up of the gateway suites (no tests of its own).

A real ``moto_server`` (S3 and DynamoDB) on 127.0.0.1 is the upstream; a real gateway process
(``python -m webfed gateway s3|dynamodb``) fronts it, sharing the data directory and database
of the federation harness's real ``webfed serve``; clients are unmodified boto3 and the AWS CLI
with ``endpoint_url`` set to the gateway. Credentials come from ``AssumeRoleWithWebIdentity``
with the test OpenID provider's tokens.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from tests.integration.test_federation_harness import ACCOUNT, Federation, unique
from tests.support.ports import free_port
from tests.support.processes import stop_process

UPSTREAM_KEY_ID = "AKIAUPSTREAMTEST0001"
UPSTREAM_SECRET = "upstream-secret-for-the-moto-server-0000"
ORIGIN = "https://game.example.test"
REGION = "us-east-1"


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        stop_process(process)


class MotoServer:
    """``python -m moto.server`` on a free port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "moto.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(f"{self.url}/moto-api/data.json", self.process, self.log)

    def client(self, service: str) -> Any:
        """A client of the upstream itself (to set up buckets and tables, and to compare)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=UPSTREAM_KEY_ID,
            aws_secret_access_key=UPSTREAM_SECRET,
        )

    def stop(self) -> None:
        _stop(self.process)


class Gateway:
    """``python -m webfed gateway SERVICE`` in front of ``upstream``."""

    def __init__(self, service: str, federation: Federation, upstream: str, *extra: str) -> None:
        server = federation.server
        self.service = service
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = server.data_dir / f"gateway-{service}-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
        env.update(
            WEBFED_DATA_DIR=str(server.data_dir),
            WEBFED_UPSTREAM_ACCESS_KEY_ID=UPSTREAM_KEY_ID,
            WEBFED_UPSTREAM_SECRET_ACCESS_KEY=UPSTREAM_SECRET,
            WEBFED_GATEWAY_CORS_ORIGINS=ORIGIN,
        )
        if server.database_url:
            env["WEBFED_DATABASE_URL"] = server.database_url
        command = [sys.executable, "-m", "webfed", "gateway", service]
        command += ["--listen", f"127.0.0.1:{self.port}", "--upstream", upstream, *extra]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _wait(f"{self.url}/__webfed/healthz", self.process, self.log)

    def stop(self) -> None:
        _stop(self.process)

    def client(self, credentials: dict[str, Any], service: str | None = None, **config: Any) -> Any:
        return boto3.client(
            service or self.service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def aws(self, credentials: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
        """The AWS CLI against the gateway with these credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
            AWS_SESSION_TOKEN=credentials["SessionToken"],
            AWS_DEFAULT_REGION=REGION,
            AWS_MAX_ATTEMPTS="1",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        command = [sys.executable, "-m", "awscli", "--endpoint-url", self.url, *args]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )


@dataclasses.dataclass
class Game:
    """The mobile game of the IAM User Guide: one role, each player their own data."""

    federation: Federation
    role_arn: str
    role_name: str

    def player(self, subject: str, **params: Any) -> dict[str, Any]:
        token = self.federation.token(subject=subject)
        credentials: dict[str, Any] = self.federation.assume(self.role_arn, token, **params)[
            "Credentials"
        ]
        return credentials

    def set_policy(self, document: dict[str, Any]) -> None:
        self.federation.iam.put_role_policy(
            RoleName=self.role_name, PolicyName="inline", PolicyDocument=json.dumps(document)
        )


def game_role(federation: Federation, statements: list[dict[str, Any]]) -> Game:
    name = unique("player")
    arn = federation.role(inline={"Version": "2012-10-17", "Statement": statements}, name=name)
    return Game(federation, arn, name)


def expired_credentials(federation: Federation, live: dict[str, Any]) -> dict[str, Any]:
    """A genuinely sealed session token for the same session, expired an hour ago."""
    import asyncio

    from webfed.authorizer import Authorizer
    from webfed.core.credentials import mint_credentials, unseal_session_token
    from webfed.settings import Settings

    async def mint() -> dict[str, Any]:
        settings = Settings(
            data_dir=federation.server.data_dir,
            database_url=federation.server.database_url,
            account_id=ACCOUNT,
        )
        async with await Authorizer.from_settings(settings, background=False) as authorizer:
            ring = authorizer.key_ring
            unsealed = unseal_session_token(live["SessionToken"], live["AccessKeyId"], ring)
            past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
            session = dataclasses.replace(
                unsealed.session, issued_at=past, expires_at=past + timedelta(hours=1)
            )
            import random

            minted = mint_credentials(session, key_ring=ring, rng=random.SystemRandom())
        return {
            "AccessKeyId": minted.access_key_id,
            "SecretAccessKey": minted.secret_access_key,
            "SessionToken": minted.session_token,
        }

    return asyncio.run(mint())


def tampered(credentials: dict[str, Any]) -> dict[str, Any]:
    token = credentials["SessionToken"]
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    return {**credentials, "SessionToken": token[:middle] + flipped + token[middle + 1 :]}


def module_servers(
    federation: Federation, tmp: Path, service: str, *extra: str
) -> Iterator[tuple[MotoServer, Gateway]]:
    moto = MotoServer(tmp)
    try:
        gateway = Gateway(service, federation, moto.url, *extra)
    except BaseException:
        moto.stop()
        raise
    try:
        yield moto, gateway
    finally:
        gateway.stop()
        moto.stop()
