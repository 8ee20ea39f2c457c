"""The processes bench/load.py measures: webfed nodes (``webfed serve``, each with its own
``webfed gateway s3``), their database, and the resident memory of their process trees.

Every node of a topology shares the database, the master key and the administrator's
credentials, and nothing else (its own data directory and caches), as in
tests/integration/test_multinode.py. A node's gateway shares its node's data directory and
database, and fronts the S3 upstream (``moto_server``).
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from federation import ADMIN_KEY_ID, ADMIN_SECRET, free_port

__all__ = ["Node", "Server", "cluster", "tree_rss_mib"]

UPSTREAM_KEY_ID = "AKIAUPSTREAMLOAD0001"
UPSTREAM_SECRET = "upstream-secret-for-the-load-bench-0000"


@dataclass
class Server:
    """One child process, its port and its log."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, probe: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}{probe}", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Node:
    serve: Server
    gateway: Server


def start(name: str, command: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return Server(name, port, process, log)


def _node_env(database_url: str, data_dir: Path, master_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    env.update(
        WEBFED_ADMIN_ACCESS_KEY_ID=ADMIN_KEY_ID,
        WEBFED_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET,
        WEBFED_MASTER_KEY=master_key,
        WEBFED_DATA_DIR=str(data_dir),
        WEBFED_DATABASE_URL=database_url,
        WEBFED_LOG_LEVEL="warning",
        WEBFED_ALLOW_HTTP_ISSUERS="true",
        # The test OpenID provider is on loopback (refused unless allowed); the rate limits on
        # unsigned calls are off: the bench measures throughput (docs/security.md).
        WEBFED_ISSUER_ALLOWED_NETWORKS="127.0.0.0/8",
        WEBFED_RATE_LIMIT_PER_CLIENT="0",
        WEBFED_RATE_LIMIT_PER_ISSUER="0",
    )
    return env


@contextmanager
def cluster(
    count: int, database_url: str, scratch: Path, upstream: str, workers: int
) -> Iterator[list[Node]]:
    """``count`` nodes on ``database_url``, started at once (migrations race as in a rollout),
    their gateways once the first node is up (the schema exists); all stopped afterwards."""
    master_key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    python = [sys.executable, "-m", "webfed"]
    with ExitStack() as stack:
        serves, gateways = [], []
        for number in range(1, count + 1):
            data_dir = scratch / f"node{number}"
            data_dir.mkdir()
            env = _node_env(database_url, data_dir, master_key)
            env.update(WEBFED_PORT=str(free_port()), WEBFED_WORKERS=str(workers))
            server = start(
                f"node{number}", [*python, "serve"], env, int(env["WEBFED_PORT"]),
                data_dir / "serve.log",
            )  # fmt: skip
            stack.callback(server.stop)
            serves.append((server, env))
        serves[0][0].wait_ready("/readyz")  # the schema is there: the gateways may start
        for server, env in serves:
            port = free_port()
            gateway_env = {
                **env,
                "WEBFED_UPSTREAM_ACCESS_KEY_ID": UPSTREAM_KEY_ID,
                "WEBFED_UPSTREAM_SECRET_ACCESS_KEY": UPSTREAM_SECRET,
            }
            command = [*python, "gateway", "s3", "--listen", f"127.0.0.1:{port}"]
            command += ["--upstream", upstream]
            log = Path(env["WEBFED_DATA_DIR"]) / "gateway.log"
            gateway = start(f"{server.name} gateway", command, gateway_env, port, log)
            stack.callback(gateway.stop)
            gateways.append(gateway)
        for server, _ in serves[1:]:
            server.wait_ready("/readyz")
        for gateway in gateways:
            gateway.wait_ready("/__webfed/healthz")
        yield [Node(serve, gateway) for (serve, _), gateway in zip(serves, gateways, strict=True)]


@contextmanager
def moto_upstream(scratch: Path) -> Iterator[str]:
    """``moto_server`` (the S3 upstream) on a free port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = start("moto_server", command, env, port, scratch / "moto.log")
    try:
        server.wait_ready("/moto-api/data.json")
        yield server.url
    finally:
        server.stop()


# --- resident memory ---------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """Every process's children, from ``/proc/<pid>/stat`` (the parent is its 4th field)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mib(roots: dict[str, int]) -> dict[str, float]:
    """The summed ``VmRSS`` (MiB) of each named process and all its descendants."""
    children = _children()
    sizes = {}
    for name, root in roots.items():
        pending, total = [root], 0
        while pending:
            pid = pending.pop()
            total += _rss_kib(pid)
            pending.extend(children.get(pid, ()))
        sizes[name] = total / 1024
    return sizes
