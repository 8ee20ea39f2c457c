"""bench/load.py's printed report: the table per request kind, the errors, the memory curve."""

from __future__ import annotations

from collections.abc import Sequence

from _load_driver import KINDS, Outcome
from _load_servers import Server

__all__ = ["Samples", "print_errors", "print_memory", "print_table", "server_log_tails"]

Samples = list[tuple[float, dict[str, float]]]
"""(seconds since the start, MiB per server) at each sampling moment."""


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _row(name: str, latencies: Sequence[float], errors: int, seconds: float) -> str:
    ordered = sorted(latencies)
    return (
        f"{name:<34} {len(ordered) / seconds:>8,.0f} {_percentile(ordered, 0.5):>8.2f} "
        f"{_percentile(ordered, 0.99):>8.2f} {_percentile(ordered, 0.999):>8.2f} "
        f"{len(ordered):>9,} {errors:>7,}"
    )


def print_table(outcome: Outcome, seconds: float) -> float:
    """Per kind and in total; returns the total requests/s."""
    print(f"{'after warm-up, ' + format(seconds, 'g') + ' s':<34} {'req/s':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'p99.9 ms':>8} {'requests':>9} {'errors':>7}")  # fmt: skip
    everything: list[float] = []
    for kind in KINDS:
        errors = sum(n for (k, _), n in outcome.errors.items() if k == kind)
        print(_row(kind, outcome.latencies_ms[kind], errors, seconds))
        everything.extend(outcome.latencies_ms[kind])
    print(_row("total", everything, sum(outcome.errors.values()), seconds), flush=True)
    return len(everything) / seconds


def print_errors(outcome: Outcome, exited: list[str]) -> None:
    if not outcome.errors and not exited:
        print("errors: none (every request of the whole run answered 200)")
        return
    print("ERRORS (whole run, by kind and status; status 0: connection broken or no answer):")
    for (kind, status), count in sorted(outcome.errors.items()):
        first = outcome.first_error[(kind, status)].replace("\n", " ")[:200]
        print(f"  {kind} status {status}: {count:,}; first: {first}")
    for name in exited:
        print(f"  {name} EXITED during the run")


def print_memory(samples: Samples, outcome: Outcome, warmup: float) -> dict[str, float]:
    """The curve (MiB per server, with the throughput of each interval) and each server's
    growth from the first sample at or after the warm-up to the last."""
    names = list(samples[0][1])
    print("memory (VmRSS of each process tree, MiB) and throughput since the previous sample:")
    print(f"  {'t s':>6} {'req/s':>7} " + " ".join(f"{name:>8}" for name in names))
    previous = 0.0
    for moment, sizes in samples:
        done = sum(outcome.per_second[int(previous) : int(moment)])
        rate = done / (int(moment) - int(previous)) if int(moment) > int(previous) else 0.0
        marker = " <- end of warm-up" if previous < warmup <= moment else ""
        print(
            f"  {moment:6.1f} {rate:7.0f} " + " ".join(f"{sizes[n]:8.1f}" for n in names) + marker
        )
        previous = moment
    base = next(sizes for moment, sizes in samples if moment >= warmup)
    last = samples[-1][1]
    growth = {name: (last[name] - base[name]) / base[name] for name in names if base[name]}
    print("growth after warm-up: " + ", ".join(f"{n} {g:+.1%}" for n, g in growth.items()))
    return growth


def server_log_tails(servers: Sequence[Server], lines: int = 15) -> str:
    """The last lines of each server's log (warning level: no secrets are logged)."""
    parts = []
    for server in servers:
        text = server.log.read_text(errors="replace").splitlines()[-lines:]
        if text:
            parts.append(f"-- {server.name} log, last {len(text)} lines:\n" + "\n".join(text))
    return "\n".join(parts)
