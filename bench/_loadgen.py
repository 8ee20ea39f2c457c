"""A lean HTTP/1.1 keep-alive load generator for the benchmarks.

An httpx client spends more CPU per request than the server it measures, so this one does as
little as possible: every request is encoded to bytes before the clock starts; each connection
is a raw asyncio stream that writes one request, reads the status line and headers up to the
blank line, then exactly ``Content-Length`` bytes of body, and records the latency. Connections
are spread over 1..N processes (``spawn``), each with its own event loop (uvloop when installed).

    result = run_load("127.0.0.1", 8700, requests, connections=64, seconds=5, processes=2)
    print(result.report("label"))

``requests`` is a list of complete request byte strings; connection ``i`` sends
``requests[(i + k * connections) % len(requests)]`` for its ``k``-th request, so distinct
requests (tokens) spread evenly over the run.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LoadResult", "encode_post", "run_load"]


def encode_post(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One complete HTTP/1.1 POST with a keep-alive connection and a Content-Length."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True)
class LoadResult:
    """What a run measured: completed requests, failures, wall time and every latency (ms)."""

    requests: int
    errors: int
    seconds: float
    latencies_ms: Sequence[float]
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def report(self, label: str) -> str:
        text = (
            f"{label}: {self.rate:,.0f} req/s ({self.requests:,} requests in "
            f"{self.seconds:.1f} s), p50 {self.percentile(0.50):.2f} ms, "
            f"p99 {self.percentile(0.99):.2f} ms, errors {self.errors}"
        )
        return text + (f" (first: {self.first_error})" if self.first_error else "")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    keep_alive = True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
    body = await reader.readexactly(length) if length else b""
    return status, body, keep_alive


@dataclass
class _Tally:
    done: int = 0
    errors: int = 0
    first_error: str = ""


async def _connection(
    host: str,
    port: int,
    requests: Sequence[bytes],
    index: int,
    stride: int,
    until: float,
    measure_from: float,
    expect: int,
    latencies: array[float],
    tally: _Tally,
) -> None:
    position = index
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while True:
        started = time.perf_counter()
        if started >= until:
            break
        try:
            if connection is None:  # a server that closes after each response pays the reconnect
                connection = await asyncio.open_connection(host, port)
            reader, writer = connection
            writer.write(requests[position % len(requests)])
            status, body, keep_alive = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError) as error:
            status, body, keep_alive = 0, repr(error).encode(), False
        position += stride
        finished = time.perf_counter()
        if not keep_alive and connection is not None:
            connection[1].close()
            connection = None
        if started < measure_from:
            continue  # warm-up: not counted
        latencies.append((finished - started) * 1000.0)
        tally.done += 1
        if status != expect:
            tally.errors += 1
            if not tally.first_error:
                tally.first_error = f"HTTP {status}: {body[:300]!r}"
    if connection is not None:
        connection[1].close()


async def _run_process(
    host: str,
    port: int,
    requests: Sequence[bytes],
    indexes: Sequence[int],
    stride: int,
    warmup: float,
    seconds: float,
    expect: int,
) -> tuple[int, int, float, array[float], str]:
    latencies: array[float] = array("d")
    tally = _Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    until = measure_from + seconds
    await asyncio.gather(
        *(
            _connection(
                host, port, requests, i, stride, until, measure_from, expect, latencies, tally
            )
            for i in indexes
        )
    )
    elapsed = time.perf_counter() - measure_from
    return tally.done, tally.errors, elapsed, latencies, tally.first_error


def _process_main(
    args: tuple[str, int, Sequence[bytes], Sequence[int], int, float, float, int],
) -> tuple[int, int, float, array[float], str]:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    return asyncio.run(_run_process(*args))


def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int = 64,
    seconds: float = 5.0,
    warmup: float = 1.0,
    processes: int = 2,
    expect: int = 200,
) -> LoadResult:
    """Drive ``connections`` keep-alive connections for ``warmup + seconds``; measure the last
    ``seconds``. Connection ``i`` runs in process ``i % processes``."""
    processes = max(1, min(processes, connections))
    shares = [list(range(p, connections, processes)) for p in range(processes)]
    jobs = [
        (host, port, list(requests), share, connections, warmup, seconds, expect)
        for share in shares
    ]
    if processes == 1:
        outcomes = [_process_main(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            outcomes = pool.map(_process_main, jobs)
    latencies: list[float] = []
    for outcome in outcomes:
        latencies.extend(outcome[3])
    return LoadResult(
        requests=sum(outcome[0] for outcome in outcomes),
        errors=sum(outcome[1] for outcome in outcomes),
        seconds=max(outcome[2] for outcome in outcomes),
        latencies_ms=latencies,
        first_error=next((outcome[4] for outcome in outcomes if outcome[4]), ""),
    )
