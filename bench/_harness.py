"""Shared by the benchmarks: run a real ``webfed serve``, drive it with N concurrent clients."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_KEY_ID = "AKIAWEBFEDBENCHADMIN"
ADMIN_SECRET = "webfed-bench-admin-secret-key-000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(workers: int = 1, database_url: str | None = None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="webfed-bench-") as data_dir:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEBFED_")}
        env.update(
            WEBFED_ADMIN_ACCESS_KEY_ID=ADMIN_KEY_ID,
            WEBFED_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET,
            WEBFED_DATA_DIR=data_dir,
            WEBFED_PORT=str(port),
            WEBFED_WORKERS=str(workers),
            WEBFED_LOG_LEVEL="warning",
            # Loopback issuers must be reachable; the benches measure throughput, so the rate
            # limits on unsigned calls are off (docs/security.md).
            WEBFED_ISSUER_ALLOWED_NETWORKS="127.0.0.0/8",
            WEBFED_RATE_LIMIT_PER_CLIENT="0",
            WEBFED_RATE_LIMIT_PER_ISSUER="0",
        )
        if database_url:
            env["WEBFED_DATABASE_URL"] = database_url
        log = Path(data_dir) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "webfed", "serve"], env=env, stdout=sink, stderr=sink
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_healthy(url, process, log)
                yield url
            finally:
                process.terminate()
                process.wait(timeout=20)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start:\n" + log.read_text())


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def report(self, label: str) -> str:
        rate = self.requests / self.seconds
        p50 = statistics.median(self.latencies_ms)
        return (
            f"{label}: {rate:,.0f} req/s over {self.requests:,} requests, "
            f"p50 {p50:.2f} ms, p99 {self.percentile(0.99):.2f} ms, errors {self.errors}"
        )


async def drive(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes,
    *,
    connections: int,
    total: int,
    expect_status: int = 200,
) -> LoadResult:
    """Send ``total`` copies of one request over ``connections`` concurrent keep-alive clients."""
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.request(method, url, headers=headers, content=body)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != expect_status:
                errors += 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        seconds = time.perf_counter() - started
    return LoadResult(len(latencies), errors, seconds, latencies)
