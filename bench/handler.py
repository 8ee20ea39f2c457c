"""The request handlers' own CPU cost, without HTTP: webfed's ASGI application driven in-process.

Run: ``.venv/bin/python bench/handler.py [--operation sts|pools|both] [--calls 3000]
[--repeats 5] [--profile]``.

``bench/federation.py`` and ``bench/pools.py`` measure the whole server under concurrent load,
where the load generator, uvicorn and the socket layer share the cores with webfed's own code
and the numbers move with whatever else the machine is doing. This bench isolates webfed's part:
it sets up a provider, a role and an identity pool through a real ``webfed serve`` on a SQLite
file (boto3, administrator credentials), stops it, then builds the same application that
``webfed serve`` workers build (``create_app_from_env``, lifespan included) in this process and
calls it directly with ASGI messages:

- ``sts``: ``AssumeRoleWithWebIdentity`` with distinct RS256 tokens (every call parses, verifies
  the signature, validates the claims, evaluates the trust policy, seals credentials, renders
  the XML and records the audit event);
- ``pools``: an identity-pool flow, ``GetId`` then ``GetCredentialsForIdentity`` for users whose
  identities already exist (created before the clock starts), each flow with its own token.

Every response must be a 200 (else the run stops). It prints the process CPU time per call or
flow (the audit writer thread included) as the best and the median of ``--repeats`` rounds, so
that a change to the hot path can be compared on a shared machine; ``--profile`` prints
cProfile's top functions by own time and by cumulative time for one more round.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvloop
from federation import ADMIN_KEY_ID, ADMIN_SECRET, child, client, free_port
from pools import CLIENT_ID, JSON_HEADERS, set_up_pool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.oidc_issuer import OidcTestIssuer  # noqa: E402

FORM = (b"content-type", b"application/x-www-form-urlencoded; charset=utf-8")
Call = Callable[[], Awaitable[None]]


def _settings(data_dir: str) -> dict[str, str]:
    return {
        "WEBFED_ADMIN_ACCESS_KEY_ID": ADMIN_KEY_ID,
        "WEBFED_ADMIN_SECRET_ACCESS_KEY": ADMIN_SECRET,
        "WEBFED_DATA_DIR": data_dir,
        "WEBFED_LOG_LEVEL": "warning",
        "WEBFED_ALLOW_HTTP_ISSUERS": "true",
        "WEBFED_ISSUER_ALLOWED_NETWORKS": "127.0.0.0/8",
        "WEBFED_RATE_LIMIT_PER_CLIENT": "0",
        "WEBFED_RATE_LIMIT_PER_ISSUER": "0",
    }


def set_up(issuer: OidcTestIssuer, data_dir: str) -> tuple[str, Any]:
    """The role ARN for ``sts`` and the pool for ``pools``, made through a real server."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    env.update(_settings(data_dir), WEBFED_PORT=str(port), WEBFED_WORKERS="1")
    command = [sys.executable, "-m", "webfed", "serve"]
    with child(command, env, f"http://127.0.0.1:{port}", "/healthz") as (url, _process):
        pool = set_up_pool(url, issuer)  # registers the provider too
        provider = issuer.url.removeprefix("http://")
        statement = {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{pool.account_id}:oidc-provider/{provider}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{provider}:aud": CLIENT_ID}},
        }
        trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        role = client("iam", url).create_role(RoleName="BenchSts", AssumeRolePolicyDocument=trust)
    return str(role["Role"]["Arn"]), pool


class Driver:
    """Calls the ASGI application with one complete request; checks for a 200."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, body: bytes, headers: Sequence[tuple[bytes, bytes]]) -> bytes:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8700"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8700),
        }
        delivered = False
        status: list[int] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # a client that stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer = b"".join(chunks)
        if status != [200]:
            raise SystemExit(f"expected a 200, got {status}: {answer[:500]!r}")
        return answer


def sts_calls(driver: Driver, issuer: OidcTestIssuer, role_arn: str, count: int) -> list[Call]:
    bodies = []
    for n in range(count):
        token = issuer.mint(issuer.claims(subject=f"player-{n:06d}", lifetime=3600))
        form = {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": role_arn,
            "RoleSessionName": "bench",
            "WebIdentityToken": token,
        }
        bodies.append(urlencode(form).encode())
    return [lambda body=body: _ignore(driver.call(body, (FORM,))) for body in bodies]


def _target(operation: str) -> list[tuple[bytes, bytes]]:
    headers = [(name.lower().encode(), value.encode()) for name, value in JSON_HEADERS]
    target = f"AWSCognitoIdentityService.{operation}".encode()
    return [*headers, (b"x-amz-target", target)]


async def pool_flows(
    driver: Driver, issuer: OidcTestIssuer, pool: Any, users: int, count: int
) -> list[Call]:
    """``count`` flows over ``users`` existing identities (made here, before any timing)."""
    get_id, get_credentials = _target("GetId"), _target("GetCredentialsForIdentity")

    def logins(n: int, jti: str) -> dict[str, str]:
        token = issuer.mint(issuer.claims(subject=f"player-{n:06d}", lifetime=3600, jti=jti))
        return {pool.provider: token}

    for n in range(users):
        body = {"IdentityPoolId": pool.pool_id, "Logins": logins(n, f"seed-{n}")}
        await driver.call(json.dumps(body).encode(), get_id)

    async def flow(user_logins: dict[str, str]) -> None:
        first = {"IdentityPoolId": pool.pool_id, "Logins": user_logins}
        answer = json.loads(await driver.call(json.dumps(first).encode(), get_id))
        second = {"IdentityId": answer["IdentityId"], "Logins": user_logins}
        await driver.call(json.dumps(second).encode(), get_credentials)

    every = [logins(n % users, f"flow-{n}") for n in range(count)]
    return [lambda chosen=chosen: flow(chosen) for chosen in every]


async def _ignore(awaitable: Awaitable[bytes]) -> None:
    await awaitable


async def measure(label: str, calls: list[Call], repeats: int, profile: bool) -> None:
    for call in calls[: min(200, len(calls))]:  # warm-up: caches, keys, statements
        await call()
    rounds = []
    for _ in range(repeats):
        await asyncio.sleep(0.3)  # the audit writer drains the previous round
        started = time.process_time()
        for call in calls:
            await call()
        await asyncio.sleep(0.3)  # and this round's events: their cost is part of the call
        rounds.append(1e6 * (time.process_time() - started) / len(calls))
    best, median = min(rounds), statistics.median(rounds)
    shape = f"{len(calls)} x {repeats}"
    print(f"{label}: CPU per call best {best:,.0f} us, median {median:,.0f} us ({shape})")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for call in calls:
            await call()
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(60)


async def run(args: argparse.Namespace, issuer: OidcTestIssuer, role_arn: str, pool: Any) -> None:
    from webfed.http.app import create_app_from_env

    front = create_app_from_env()
    starlette = front.app if hasattr(front, "app") else front
    async with starlette.router.lifespan_context(starlette):
        driver = Driver(front)
        if args.operation in ("sts", "both"):
            calls = sts_calls(driver, issuer, role_arn, args.calls)
            await measure("AssumeRoleWithWebIdentity", calls, args.repeats, args.profile)
        if args.operation in ("pools", "both"):
            flows = await pool_flows(driver, issuer, pool, 500, args.calls // 2)
            label = "GetId + GetCredentialsForIdentity flow"
            await measure(label, flows, args.repeats, args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operation", choices=("sts", "pools", "both"), default="both")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with OidcTestIssuer(client_id=CLIENT_ID) as issuer, tempfile.TemporaryDirectory() as data:
        role_arn, pool = set_up(issuer, data)
        os.environ.update(_settings(data))
        uvloop.run(run(args, issuer, role_arn, pool))


if __name__ == "__main__":
    main()
