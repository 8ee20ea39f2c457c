"""How much the S3 gateway adds: latency and throughput, gateway versus the upstream directly.

Starts a real OpenID test issuer, ``webfed serve``, ``moto_server`` (the upstream) and a gateway
process (``python -m webfed.cli_gateway s3``), exchanges a token for role credentials whose
policy is the mobile game's per-player prefix, then measures the same calls made by boto3 to
the upstream directly (upstream credentials) and through the gateway (session credentials, so
every request is verified, authorized against the policy and re-signed):

* small objects (1 KiB GET, 1 KiB PUT): p50 / p95 latency, and the added p50;
* throughput: 8 threads of small GETs (requests per second), and one 64 MiB object PUT and GET
  (MB/s), gateway as a share of direct.

Run from a checkout: ``python bench/gateway.py [--requests 400] [--large-mib 64]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.conftest import WebfedServer
from tests.integration.test_federation_harness import (
    CLIENT_ID,
    HTTP_ISSUERS,
    Federation,
)
from tests.integration.test_gateway_harness import Gateway, MotoServer, game_role
from tests.support.oidc_issuer import OidcTestIssuer

BUCKET = "bench"


def timed(call: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency(name: str, direct: Callable[[], object], through: Callable[[], object], n: int) -> None:
    for _ in range(20):  # warm connections and caches on both paths
        direct()
        through()
    direct_ms: list[float] = []
    gateway_ms: list[float] = []
    for _ in range(n // 50):  # interleave, so drift on the machine hits both paths alike
        direct_ms += timed(direct, 50)
        gateway_ms += timed(through, 50)
    added = statistics.median(gateway_ms) - statistics.median(direct_ms)
    print(
        f"{name:<14} direct p50 {statistics.median(direct_ms):6.2f} ms"
        f"  p95 {percentile(direct_ms, 0.95):6.2f} ms"
        f" | gateway p50 {statistics.median(gateway_ms):6.2f} ms"
        f"  p95 {percentile(gateway_ms, 0.95):6.2f} ms | added p50 {added:5.2f} ms"
    )


def reader(client: Any, key: str) -> Callable[[], bytes]:
    """A call that GETs ``key`` and reads its body."""

    def get() -> bytes:
        body: bytes = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return body

    return get


def rate(call: Callable[[], object], seconds: float, threads: int) -> float:
    deadline = time.perf_counter() + seconds

    def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            call()
            done += 1
        return done

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(lambda _: worker(), range(threads))) / seconds


def large(name: str, client: Any, payload: bytes, key: str) -> tuple[float, float]:
    start = time.perf_counter()
    client.put_object(Bucket=BUCKET, Key=key, Body=payload)
    put = time.perf_counter() - start
    start = time.perf_counter()
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
    size = 0
    for chunk in body.iter_chunks(1024 * 1024):
        size += len(chunk)
    get = time.perf_counter() - start
    assert size == len(payload)
    mib = len(payload) / (1024 * 1024)
    return mib / put, mib / get


def run(requests: int, large_mib: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        issuer = OidcTestIssuer(client_id=CLIENT_ID).start()
        server = WebfedServer(directory / "webfed", None, dict(HTTP_ISSUERS))
        server.start()
        moto = MotoServer(directory)
        try:
            fed = Federation(server, issuer, iam=server.client("iam"), sts=server.client("sts"))
            fed.provider_arn = fed.register(issuer)
            gateway = Gateway("s3", fed, moto.url)
            try:
                measure(fed, moto, gateway, requests, large_mib)
            finally:
                gateway.stop()
        finally:
            moto.stop()
            server.stop()
            issuer.stop()


def measure(fed: Federation, moto: MotoServer, gateway: Gateway, requests: int, mib: int) -> None:
    sub = "${" + fed.prefix + ":sub}"
    game = game_role(
        fed,
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/{sub}/*",
            }
        ],
    )
    direct = moto.client("s3")
    direct.create_bucket(Bucket=BUCKET)
    through = gateway.client(game.player("p1"), max_pool_connections=16)
    small = b"s" * 1024
    direct.put_object(Bucket=BUCKET, Key="p1/small", Body=small)
    print(f"webfed S3 gateway bench: {requests} calls per path, upstream moto_server\n")
    latency(
        "GET 1 KiB",
        reader(direct, "p1/small"),
        reader(through, "p1/small"),
        requests,
    )
    latency(
        "PUT 1 KiB",
        lambda: direct.put_object(Bucket=BUCKET, Key="p1/w", Body=small),
        lambda: through.put_object(Bucket=BUCKET, Key="p1/w", Body=small),
        requests,
    )
    direct_rate = rate(reader(direct, "p1/small"), 5, 8)
    gateway_rate = rate(reader(through, "p1/small"), 5, 8)
    print(
        f"\nGET 1 KiB x8   direct {direct_rate:7.0f} req/s | gateway {gateway_rate:7.0f} req/s"
        f" | {100 * gateway_rate / direct_rate:5.1f}% of direct"
    )
    payload = bytes(range(256)) * (mib * 4096)
    direct_put, direct_get = large("direct", direct, payload, "p1/large-direct")
    gateway_put, gateway_get = large("gateway", through, payload, "p1/large-gateway")
    for verb, d, g in (("PUT", direct_put, gateway_put), ("GET", direct_get, gateway_get)):
        print(
            f"{verb} {mib} MiB     direct {d:7.1f} MB/s  | gateway {g:7.1f} MB/s  "
            f"| {100 * g / d:5.1f}% of direct"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--large-mib", type=int, default=64)
    arguments = parser.parse_args()
    run(arguments.requests, arguments.large_mib)


if __name__ == "__main__":
    main()
