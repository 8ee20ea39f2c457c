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

Flows of dependent requests (a login, then a call with the id it returned) go through
:func:`run_flows`: a flow is a sequence of :class:`Step`; a step's body may hold ``{{Name}}``
placeholders filled with the JSON member ``Name`` of an earlier response of the same flow, so
the second request cannot be prepared before the first is answered. A flow is timed as a whole
(and each step on its own); the result counts flows, not requests::

    login = Step("/", headers, b'{"User": "u1"}', capture=("Id",))
    fetch = Step("/", headers, b'{"Id": "{{Id}}"}')
    result = run_flows("127.0.0.1", 8700, [(login, fetch)], connections=32, seconds=5)
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["LoadResult", "Step", "encode_post", "run_flows", "run_load"]

_Outcome = TypeVar("_Outcome")


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
    step_latencies_ms: Sequence[Sequence[float]] = field(default=(), repr=False)
    """For :func:`run_flows`: the latencies of each step of the counted flows, by step index."""
    client_cpu_seconds: float = 0.0
    """CPU time the load generator's own processes spent during the measured window: it shares
    the cores with the server, so what it costs per request bounds what the server can get."""

    @property
    def client_cpu_per_request_us(self) -> float:
        return 1e6 * self.client_cpu_seconds / self.requests if self.requests else float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        return _percentile(self.latencies_ms, fraction)

    def step_percentile(self, step: int, fraction: float) -> float:
        return _percentile(self.step_latencies_ms[step], fraction)

    def report(self, label: str, unit: str = "request") -> str:
        rate_unit = "req" if unit == "request" else f"{unit}s"
        text = (
            f"{label}: {self.rate:,.0f} {rate_unit}/s ({self.requests:,} {unit}s in "
            f"{self.seconds:.1f} s), p50 {self.percentile(0.50):.2f} ms, "
            f"p99 {self.percentile(0.99):.2f} ms, errors {self.errors}"
        )
        return text + (f" (first: {self.first_error})" if self.first_error else "")


def _percentile(latencies: Sequence[float], fraction: float) -> float:
    if not latencies:
        return float("nan")
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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
    cpu_start: float = 0.0


def _loop_time_at(moment: float) -> float:
    """The event loop's clock reading at ``moment`` of ``time.perf_counter``."""
    return asyncio.get_running_loop().time() + (moment - time.perf_counter())


def _note_cpu_start(tally: _Tally) -> None:
    tally.cpu_start = time.process_time()


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
) -> tuple[int, int, float, array[float], str, float]:
    latencies: array[float] = array("d")
    tally = _Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    until = measure_from + seconds
    cpu = asyncio.get_running_loop().call_at(_loop_time_at(measure_from), _note_cpu_start, tally)
    await asyncio.gather(
        *(
            _connection(
                host, port, requests, i, stride, until, measure_from, expect, latencies, tally
            )
            for i in indexes
        )
    )
    cpu.cancel()
    elapsed = time.perf_counter() - measure_from
    used = time.process_time() - tally.cpu_start if tally.cpu_start else 0.0
    return tally.done, tally.errors, elapsed, latencies, tally.first_error, used


def _install_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass


def _process_main(
    args: tuple[str, int, Sequence[bytes], Sequence[int], int, float, float, int],
) -> tuple[int, int, float, array[float], str, float]:
    _install_uvloop()
    return asyncio.run(_run_process(*args))


def _spread(main: Callable[[Any], _Outcome], jobs: Sequence[Any], processes: int) -> list[_Outcome]:
    """``main(job)`` for every job, each in a process of its own (or inline for one job)."""
    if processes == 1:
        return [main(jobs[0])]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.map(main, jobs)


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
    outcomes = _spread(_process_main, jobs, processes)
    latencies: list[float] = []
    for outcome in outcomes:
        latencies.extend(outcome[3])
    return LoadResult(
        requests=sum(outcome[0] for outcome in outcomes),
        errors=sum(outcome[1] for outcome in outcomes),
        seconds=max(outcome[2] for outcome in outcomes),
        latencies_ms=latencies,
        first_error=next((outcome[4] for outcome in outcomes if outcome[4]), ""),
        client_cpu_seconds=sum(outcome[5] for outcome in outcomes),
    )


# --- flows of dependent requests ----------------------------------------------------------------

_PLACEHOLDER = re.compile(rb"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Step:
    """One POST of a flow.

    ``body`` may hold ``{{Name}}`` placeholders, each replaced by the string member ``Name`` of
    the JSON object an earlier step of the same flow received (named in that step's
    ``capture``). The value is inserted JSON-string-escaped: a placeholder sits inside quotes.
    """

    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    capture: tuple[str, ...] = ()


class _CompiledStep:
    """A step with everything that does not depend on earlier answers encoded ahead of time."""

    __slots__ = ("capture", "fixed", "head", "parts")

    def __init__(self, host: str, port: int, step: Step) -> None:
        self.capture = step.capture
        self.parts = _PLACEHOLDER.split(step.body)  # literal, name, literal, name, ..., literal
        if len(self.parts) == 1:
            self.fixed: bytes | None = encode_post(
                host, port, step.path, step.body, dict(step.headers)
            )
            self.head = b""
            return
        self.fixed = None
        lines = [f"POST {step.path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in step.headers]
        self.head = ("\r\n".join(lines) + "\r\n").encode("latin-1")

    def render(self, captured: dict[bytes, bytes]) -> bytes:
        if self.fixed is not None:
            return self.fixed
        pieces = self.parts[:]
        for index in range(1, len(pieces), 2):
            pieces[index] = captured[pieces[index]]  # KeyError: a flow captured too little
        body = b"".join(pieces)
        return self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def _captured(body: bytes, names: tuple[str, ...], into: dict[bytes, bytes]) -> str:
    """Store the members ``names`` of the JSON ``body``; an error message if one is missing."""
    try:
        document = json.loads(body)
    except ValueError:
        return f"response is not JSON: {body[:300]!r}"
    for name in names:
        value = document.get(name) if isinstance(document, dict) else None
        if not isinstance(value, str):
            return f"response lacks the string member {name}: {body[:300]!r}"
        into[name.encode()] = json.dumps(value)[1:-1].encode()
    return ""


async def _flow_connection(
    host: str,
    port: int,
    flows: Sequence[Sequence[_CompiledStep]],
    index: int,
    stride: int,
    until: float,
    measure_from: float,
    expect: int,
    latencies: array[float],
    steps: list[array[float]],
    tally: _Tally,
) -> None:
    position = index
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while True:
        started = time.perf_counter()
        if started >= until:
            break
        flow = flows[position % len(flows)]
        position += stride
        captured: dict[bytes, bytes] = {}
        timings: list[float] = []
        failure = ""
        step_started = started
        for step in flow:
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, port)
                reader, writer = connection
                writer.write(step.render(captured))
                status, body, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError) as error:
                status, body, keep_alive = 0, repr(error).encode(), False
            now = time.perf_counter()
            timings.append((now - step_started) * 1000.0)
            step_started = now
            if not keep_alive and connection is not None:
                connection[1].close()
                connection = None
            if status != expect:
                failure = f"HTTP {status}: {body[:300]!r}"
            elif step.capture:
                failure = _captured(body, step.capture, captured)
            if failure:
                break
        if started < measure_from:
            continue  # warm-up: not counted
        tally.done += 1
        if failure:
            tally.errors += 1
            tally.first_error = tally.first_error or failure
            continue
        latencies.append((time.perf_counter() - started) * 1000.0)
        for number, timing in enumerate(timings):
            steps[number].append(timing)
    if connection is not None:
        connection[1].close()


async def _run_flow_process(
    host: str,
    port: int,
    flows: Sequence[Sequence[Step]],
    indexes: Sequence[int],
    stride: int,
    warmup: float,
    seconds: float,
    expect: int,
) -> tuple[int, int, float, array[float], str, list[array[float]]]:
    compiled = [[_CompiledStep(host, port, step) for step in flow] for flow in flows]
    latencies: array[float] = array("d")
    steps = [array("d") for _ in range(max(len(flow) for flow in flows))]
    tally = _Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    until = measure_from + seconds
    await asyncio.gather(
        *(
            _flow_connection(
                host,
                port,
                compiled,
                i,
                stride,
                until,
                measure_from,
                expect,
                latencies,
                steps,
                tally,
            )
            for i in indexes
        )
    )
    elapsed = time.perf_counter() - measure_from
    return tally.done, tally.errors, elapsed, latencies, tally.first_error, steps


def _flow_process_main(
    args: tuple[str, int, Sequence[Sequence[Step]], Sequence[int], int, float, float, int],
) -> tuple[int, int, float, array[float], str, list[array[float]]]:
    _install_uvloop()
    return asyncio.run(_run_flow_process(*args))


def run_flows(
    host: str,
    port: int,
    flows: Sequence[Sequence[Step]],
    *,
    connections: int = 64,
    seconds: float = 5.0,
    warmup: float = 1.0,
    processes: int = 2,
    expect: int = 200,
) -> LoadResult:
    """Like :func:`run_load`, for flows: each connection runs one flow after another (connection
    ``i`` its ``k``-th flow from ``flows[(i + k * connections) % len(flows)]``), each step
    waiting for the previous answer. A flow fails at its first step not answered ``expect`` (or
    lacking a member to capture); its remaining steps are skipped. ``requests`` counts flows
    started in the measured window, ``errors`` the failed ones; latencies are of the successful
    flows (``step_latencies_ms``: per step)."""
    processes = max(1, min(processes, connections))
    shares = [list(range(p, connections, processes)) for p in range(processes)]
    plain = [list(flow) for flow in flows]
    jobs = [(host, port, plain, share, connections, warmup, seconds, expect) for share in shares]
    outcomes = _spread(_flow_process_main, jobs, processes)
    latencies: list[float] = []
    steps: list[list[float]] = [[] for _ in range(max(len(flow) for flow in plain))]
    for outcome in outcomes:
        latencies.extend(outcome[3])
        for number, timings in enumerate(outcome[5]):
            steps[number].extend(timings)
    return LoadResult(
        requests=sum(outcome[0] for outcome in outcomes),
        errors=sum(outcome[1] for outcome in outcomes),
        seconds=max(outcome[2] for outcome in outcomes),
        latencies_ms=latencies,
        first_error=next((outcome[4] for outcome in outcomes if outcome[4]), ""),
        step_latencies_ms=steps,
    )
