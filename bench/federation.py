"""``AssumeRoleWithWebIdentity`` under load: webfed (full token validation) against moto.

Run: ``.venv/bin/python bench/federation.py [--connections 64] [--seconds 5] [--workers 2]
[--processes 2] [--tokens 2000] [--no-moto] [--profile]``.

It starts a test OpenID provider (``tests.support.OidcTestIssuer``, real discovery + JWKS over
HTTP), a real ``webfed serve --workers N`` on SQLite that accepts its ``http://127.0.0.1``
issuer, registers the provider and a role whose trust policy checks ``aud``, and mints
``--tokens`` distinct RS256 ID tokens. Then ``bench/_loadgen.py`` sends pre-encoded requests
over ``--connections`` keep-alive connections: every request is a different token, so every
one is parsed, its signature verified, its claims validated, the trust policy evaluated and new
credentials sealed. It prints requests/s, p50, p99 and errors; the p50 of one boto3 client
calling in a loop; and the same load against ``moto_server`` (which validates nothing) with the
ratio. Load generator and servers share this machine's cores. With ``--profile``, py-spy samples
the webfed workers during the load and the share of their time spent in each webfed function
(and the libraries it calls) is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import httpx
from _loadgen import LoadResult, encode_post, run_load
from botocore import UNSIGNED
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.oidc_issuer import OidcTestIssuer  # noqa: E402

ADMIN_KEY_ID = "AKIAWEBFEDBENCHADMIN"
ADMIN_SECRET = "webfed-bench-admin-secret-key-000000000"
CLIENT_ID = "bench-app"
MOTO_ACCOUNT = "123456789012"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace"))
        try:
            httpx.get(f"{url}{path}", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start:\n" + log.read_text(errors="replace"))


@contextmanager
def child(
    command: list[str], env: dict[str, str], url: str, probe: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server subprocess, up once ``probe`` answers; terminated afterwards."""
    with tempfile.TemporaryDirectory(prefix="webfed-bench-") as scratch:
        log = Path(scratch) / "server.log"
        env = {**env, "WEBFED_DATA_DIR": env.get("WEBFED_DATA_DIR", scratch)}
        with log.open("wb") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink, cwd=scratch)
            try:
                _wait_until_up(url, process, log, probe)
                yield url, process
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def webfed_server(workers: int) -> Any:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    env.update(
        WEBFED_ADMIN_ACCESS_KEY_ID=ADMIN_KEY_ID,
        WEBFED_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET,
        WEBFED_PORT=str(port),
        WEBFED_WORKERS=str(workers),
        WEBFED_LOG_LEVEL="warning",
        WEBFED_ALLOW_HTTP_ISSUERS="true",
        # The test issuer is on loopback (refused unless allowed); rate limits off: this
        # measures throughput (docs/security.md).
        WEBFED_ISSUER_ALLOWED_NETWORKS="127.0.0.0/8",
        WEBFED_RATE_LIMIT_PER_CLIENT="0",
        WEBFED_RATE_LIMIT_PER_ISSUER="0",
    )
    command = [sys.executable, "-m", "webfed", "serve"]
    return child(command, env, f"http://127.0.0.1:{port}", "/healthz")


def moto_server() -> Any:
    port = free_port()
    binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [binary, "-H", "127.0.0.1", "-p", str(port)]
    return child(command, env, f"http://127.0.0.1:{port}", "/moto-api/")


def client(service: str, url: str, *, unsigned: bool = False) -> Any:
    config = Config(retries={"max_attempts": 1}, signature_version=UNSIGNED if unsigned else None)
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        config=config,
    )


def trust_policy(federated: str, prefix: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": federated},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{prefix}:aud": CLIENT_ID}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def set_up_role(url: str, issuer: OidcTestIssuer, *, register_provider: bool) -> str:
    iam = client("iam", url)
    prefix = issuer.url.removeprefix("http://")
    federated = f"arn:aws:iam::{MOTO_ACCOUNT}:oidc-provider/{prefix}"
    if register_provider:
        federated = iam.create_open_id_connect_provider(
            Url=issuer.url, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
        )["OpenIDConnectProviderArn"]
    role = iam.create_role(
        RoleName="BenchFederated", AssumeRolePolicyDocument=trust_policy(federated, prefix)
    )
    return str(role["Role"]["Arn"])


def mint_tokens(issuer: OidcTestIssuer, count: int) -> list[str]:
    return [
        issuer.mint(issuer.claims(subject=f"player-{n:06d}", lifetime=3600)) for n in range(count)
    ]


def encoded_requests(url: str, role_arn: str, tokens: list[str]) -> list[bytes]:
    host, port = url.removeprefix("http://").split(":")
    requests = []
    for token in tokens:
        body = urlencode(
            {
                "Action": "AssumeRoleWithWebIdentity",
                "Version": "2011-06-15",
                "RoleArn": role_arn,
                "RoleSessionName": "bench",
                "WebIdentityToken": token,
            }
        ).encode()
        requests.append(encode_post(host, int(port), "/", body, FORM))
    return requests


def boto3_p50(url: str, role_arn: str, tokens: list[str], calls: int) -> float:
    """The median latency (ms) of one boto3 client calling in a loop, response parsing included."""
    sts = client("sts", url, unsigned=True)
    timings = []
    for n in range(calls + 20):
        started = time.perf_counter()
        sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="bench", WebIdentityToken=tokens[n % len(tokens)]
        )
        if n >= 20:
            timings.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(timings)


def _profile_workers(parent: int, seconds: float, out: Path) -> list[Path]:
    """py-spy samples of every worker of ``parent`` (uvicorn's children), in parallel."""
    pids = _worker_pids(parent)
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    outputs, runs = [], []
    for pid in pids:
        target = out / f"{pid}.txt"
        command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate"]
        command += ["200", "--format", "raw", "--nonblocking", "--output", str(target)]
        runs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        outputs.append(target)
    for run in runs:
        run.wait()
    return [path for path in outputs if path.exists()]


def _frame_name(frame: str) -> str:
    function, _, where = frame.rpartition(" (")
    path = where.split(":")[0]
    for marker in ("site-packages/", "src/"):
        path = path.split(marker)[-1]
    return f"{function} ({path})"


def print_profile(samples: list[Path], top: int = 25) -> None:
    """Inclusive share of worker samples per function (webfed, its libraries, the framework)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for path in samples:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            total += int(count)
            for name in {_frame_name(frame) for frame in stack.split(";")}:
                inclusive[name] += int(count)
    interesting = ("webfed/", "joserfc/", "sqlalchemy/", "aiosqlite/", "RequestResponseCycle.send")
    print(f"profile: {total} samples of the workers' busy time (inclusive share)")
    shown = [(n, c) for n, c in inclusive.most_common() if any(m in n for m in interesting)]
    for name, count in shown[:top]:
        print(f"  {100 * count / max(total, 1):5.1f}%  {name}")


def measure(
    label: str,
    server: tuple[str, subprocess.Popen[bytes]],
    role_arn: str,
    tokens: list[str],
    args: Any,
    profile: bool = False,
) -> LoadResult:
    url, process = server
    requests = encoded_requests(url, role_arn, tokens)
    host, port = url.removeprefix("http://").split(":")
    single = run_load(host, int(port), requests, connections=1, seconds=2, processes=1)
    print(single.report(f"{label}, 1 connection"), flush=True)
    print(f"{label}, one boto3 client: p50 {boto3_p50(url, role_arn, tokens, 300):.2f} ms")
    with (
        tempfile.TemporaryDirectory(prefix="webfed-profile-") as scratch,
        ThreadPoolExecutor() as pool,
    ):
        spying = None
        if profile:  # starts sampling as the measured part of the load begins
            spying = pool.submit(_delayed_profile, process.pid, args.seconds, Path(scratch))
        window = max(1.0, args.seconds - 1.0)
        busy = pool.submit(_measured_cpu, process.pid, 1.5, window)
        result = run_load(
            host,
            int(port),
            requests,
            connections=args.connections,
            seconds=args.seconds,
            processes=args.processes,
        )
        print(result.report(f"{label}, {args.connections} connections"), flush=True)
        cpu = busy.result() / window
        per_request = 1e6 * cpu / result.rate if result.rate else float("nan")
        client = result.client_cpu_per_request_us
        print(
            f"{label}: server busy {cpu:.2f} cores, CPU per request: server {per_request:,.0f} us,"
            f" load generator {client:,.0f} us"
        )
        if spying is not None:
            print_profile(spying.result())
    return result


def _worker_pids(parent: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(parent)], check=False, capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()] or [parent]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` so far (``/proc/PID/stat``, fields 14 and 15)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _measured_cpu(parent: int, warmup: float, seconds: float) -> float:
    """The webfed workers' CPU seconds over the measured part of the load (after warm-up)."""
    pids = _worker_pids(parent)
    time.sleep(warmup)
    before = _cpu_seconds(pids)
    time.sleep(seconds)
    return _cpu_seconds(pids) - before


def _delayed_profile(parent: int, seconds: float, out: Path) -> list[Path]:
    time.sleep(1.5)  # the load generator's start-up and warm-up second
    return _profile_workers(parent, max(1.0, seconds - 1.0), out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--tokens", type=int, default=2000, help="distinct tokens to cycle")
    parser.add_argument("--no-moto", action="store_true", help="skip the moto comparison")
    parser.add_argument("--profile", action="store_true", help="py-spy the webfed workers")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores; load generator on the same cores", flush=True)
    with OidcTestIssuer(client_id=CLIENT_ID) as issuer:
        tokens = mint_tokens(issuer, args.tokens)
        with webfed_server(args.workers) as server:
            role_arn = set_up_role(server[0], issuer, register_provider=True)
            label = f"webfed --workers {args.workers}"
            ours = measure(label, server, role_arn, tokens, args, profile=args.profile)
        if args.no_moto:
            return
        with moto_server() as server:
            role_arn = set_up_role(server[0], issuer, register_provider=False)
            theirs = measure("moto_server", server, role_arn, tokens, args)
    if theirs.rate:
        print(f"webfed / moto throughput: {ours.rate / theirs.rate:.1f}x")


if __name__ == "__main__":
    main()
