"""Sustained load: a mixed workload against one webfed node and against three, for a duration.

Run: ``.venv/bin/python bench/load.py --duration 60 [--nodes 1,3] [--connections 18]
[--database pg|sqlite] [--workers 1] [--processes 1] [--new-share 0.2] [--check]``.

Per topology (one node, three nodes), on a fresh database: ``--nodes`` ``webfed serve``
processes (``--workers`` each) on loopback, three of them sharing one PostgreSQL database
(``WEBFED_TEST_DATABASE_URL``; a throwaway database is created on that server and dropped),
each with its own ``webfed gateway s3`` in front of one ``moto_server``. The single node uses
PostgreSQL too, so the comparison is fair (``--database sqlite``: a SQLite file instead).
After the set-up (bench/_load_setup.py), ``--connections`` keep-alive connections, spread over
the nodes and the three kinds of traffic (bench/_load_driver.py), run concurrently for
``--duration`` seconds: ``AssumeRoleWithWebIdentity`` with distinct RS256 tokens; identity
pool flows (``GetId`` + ``GetCredentialsForIdentity``), returning users and (``--new-share``
of the flows) new users' first logins; SigV4-signed S3 ``GetObject``/``PutObject`` through
the gateways with credentials minted by federation.

It prints, per request kind and in total, requests/s, p50, p99, p99.9 (requests started after
the warm-up: the first 20% of the duration, at least 10 s) and errors (whole run: any answer
other than 200, a broken connection or no answer; listed by kind and status with the first
answer's text); then the resident memory of every server (``VmRSS`` summed over each
process's tree, sampled every few seconds) with the throughput of each interval, and each
server's growth from the end of the warm-up to the end. The load generator, the servers,
``moto_server``, the OpenID provider and the database share this machine's cores: three nodes
on one machine do not get three machines' worth of CPU, and the comparison says so.

``--check`` exits 1 if any request failed, any server exited, or any server's memory grew by
10% or more after the warm-up. Without ``WEBFED_TEST_DATABASE_URL`` the three-node topology
is skipped (with a message) and the single node runs on SQLite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from _load_driver import GET_ID, MIX, Job, Outcome, Workload, run_job
from _load_report import Samples, print_errors, print_memory, print_table, server_log_tails
from _load_servers import Node, cluster, moto_upstream, tree_rss_mib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _load_setup import BUCKET, CLIENT_ID, Tokens, mint_tokens, prepare  # noqa: E402
from pools import database  # noqa: E402
from tests.support.oidc_issuer import OidcTestIssuer  # noqa: E402

GROWTH_LIMIT = 0.10
NEW_FLOWS_PER_SECOND = 200  # identity-pool flows/s to mint new users' tokens for
PG_ENV = "WEBFED_TEST_DATABASE_URL"


@dataclass(frozen=True)
class Verdict:
    label: str
    rate: float
    failures: int  # failed requests, plus servers that exited
    growth: dict[str, float]


def warmup_seconds(duration: float) -> float:
    """The first 20% of the run, at least 10 s (at most half the run)."""
    return min(max(10.0, 0.2 * duration), 0.5 * duration)


def sample_interval(duration: float) -> float:
    return max(2.0, min(10.0, duration / 20))


@contextmanager
def database_url(kind: str, scratch: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{scratch / 'webfed.db'}"
        return
    with database("postgresql", scratch) as url:
        yield url


def jobs(workload: Workload, tokens: Tokens, args: argparse.Namespace) -> list[Job]:
    """One job per load generator process; each gets its share of the new users' tokens."""
    processes = max(1, min(args.processes, args.connections))
    start_at = time.time() + 3.0  # spawned processes import, then start together
    return [
        Job(
            workload=replace(workload, newcomer_tokens=tokens.newcomers[p::processes]),
            connections=tuple(range(p, args.connections, processes)),
            start_at=start_at,
            warmup=warmup_seconds(args.duration),
            seconds=args.duration,
        )
        for p in range(processes)
    ]


def sample_memory(roots: dict[str, int], start_at: float, duration: float) -> Samples:
    """RSS of each server's tree at 0, every interval, and just before the load ends."""
    interval = sample_interval(duration)
    moments = [k * interval for k in range(int(duration / interval) + 1) if k * interval < duration]
    moments.append(duration - 0.5)
    samples: Samples = []
    for moment in moments:
        time.sleep(max(0.0, start_at + moment - time.time()))
        samples.append((time.time() - start_at, tree_rss_mib(roots)))
    return samples


def run_load(
    nodes: list[Node], workload: Workload, tokens: Tokens, args: argparse.Namespace
) -> tuple[Outcome, Samples]:
    """The load processes, while this one samples the servers' memory."""
    roots = {f"node{n}": node.serve.process.pid for n, node in enumerate(nodes, 1)}
    roots |= {f"gw{n}": node.gateway.process.pid for n, node in enumerate(nodes, 1)}
    planned = jobs(workload, tokens, args)
    with multiprocessing.get_context("spawn").Pool(len(planned)) as pool:
        pending = pool.map_async(run_job, planned)
        samples = sample_memory(roots, planned[0].start_at, args.duration)
        outcomes = pending.get(timeout=args.duration + 120)
    outcome = Outcome()
    for part in outcomes:
        outcome.merge(part)
    return outcome, samples


def report(
    nodes: list[Node],
    outcome: Outcome,
    samples: Samples,
    tokens: Tokens,
    args: argparse.Namespace,
) -> tuple[float, int, dict[str, float]]:
    """The table, the errors and the memory curve: (total req/s, failures, growth per server)."""
    servers = [node.serve for node in nodes] + [node.gateway for node in nodes]
    exited = [server.name for server in servers if server.process.poll() is not None]
    warmup = warmup_seconds(args.duration)
    rate = print_table(outcome, args.duration - warmup)
    flows = outcome.requests[GET_ID]
    share = outcome.new_logins / flows if flows else 0.0
    print(f"identity-pool flows (whole run): {flows:,}, of which new users' first logins: "
          f"{outcome.new_logins:,} ({share:.0%})", flush=True)  # fmt: skip
    if outcome.new_logins >= len(tokens.newcomers):
        print(f"  (the {len(tokens.newcomers):,} new users' tokens ran out: the flows were "
              f"faster than the {NEW_FLOWS_PER_SECOND}/s they were minted for)")  # fmt: skip
    failures = sum(outcome.errors.values()) + len(exited)
    print_errors(outcome, exited)
    growth = print_memory(samples, outcome, warmup)
    if failures:
        print(server_log_tails(servers))
    return rate, failures, growth


def run_topology(
    count: int,
    kind: str,
    issuer: OidcTestIssuer,
    upstream: str,
    tokens: Tokens,
    args: argparse.Namespace,
) -> Verdict:
    label = f"{count} node{'s' if count > 1 else ''} ({'PostgreSQL' if kind == 'pg' else 'SQLite'})"
    print(f"\n== {label}: {args.connections} connections, {args.duration:g} s, warm-up "
          f"{warmup_seconds(args.duration):g} s", flush=True)  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="webfed-load-") as scratch,
        database_url(kind, Path(scratch)) as url,
        cluster(count, url, Path(scratch), upstream, args.workers) as nodes,
    ):
        started = time.monotonic()
        account = prepare(nodes, issuer, upstream, players=args.connections)
        workload = Workload(
            nodes=tuple((node.serve.port, node.gateway.port) for node in nodes),
            role_arn=account.role_arn,
            federation_tokens=tokens.federation,
            pool_id=account.pool_id,
            logins_key=account.logins_key,
            returning_tokens=tokens.returning,
            newcomer_tokens=(),
            new_share=args.new_share,
            players=account.players,
            bucket=BUCKET,
            mix=tuple(args.mix.split(",")),
        )
        print(f"set-up through the API in {time.monotonic() - started:.1f} s", flush=True)
        outcome, samples = run_load(nodes, workload, tokens, args)
        rate, failures, growth = report(nodes, outcome, samples, tokens, args)
    return Verdict(label, rate, failures, growth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per topology")
    parser.add_argument("--nodes", default="1,3", help="topologies: node counts, comma-separated")
    parser.add_argument("--connections", type=int, default=18)
    parser.add_argument("--database", choices=("pg", "sqlite"), default="pg", help="one node's")
    parser.add_argument("--workers", type=int, default=1, help="workers per node")
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--new-share", type=float, default=0.2, help="identity-pool flows of new users"
    )
    parser.add_argument(
        "--mix", default=",".join(MIX), help="traffic kinds, spread over the connections"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 on errors or growth")
    args = parser.parse_args()
    if args.duration < 10:
        parser.error("--duration: at least 10 seconds")
    counts = [int(value) for value in args.nodes.split(",")]
    if not set(args.mix.split(",")) <= set(MIX):
        parser.error(f"--mix: kinds among {','.join(MIX)}")
    have_pg = bool(os.environ.get(PG_ENV))
    print(
        f"machine: {os.cpu_count()} cores, shared by the load generator ({args.processes} "
        f"process{'es' if args.processes > 1 else ''}, {args.connections} connections), the "
        f"servers (webfed serve --workers {args.workers} and a gateway per node), moto_server, "
        f"the OpenID provider and the database: the numbers are of this machine, noisy if "
        f"anything else runs; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        flush=True,
    )
    verdicts: list[Verdict] = []
    with (
        OidcTestIssuer(client_id=CLIENT_ID) as issuer,
        tempfile.TemporaryDirectory(prefix="webfed-load-") as scratch,
        moto_upstream(Path(scratch)) as upstream,
    ):
        started = time.monotonic()
        tokens = mint_tokens(
            issuer,
            federation=1000,
            returning=500,
            newcomers=int(NEW_FLOWS_PER_SECOND * args.new_share * args.duration) + 1,
        )
        total = len(tokens.federation) + len(tokens.returning) + len(tokens.newcomers)
        print(f"{total:,} distinct RS256 tokens minted in {time.monotonic() - started:.1f} s")
        for count in counts:
            kind = args.database if count == 1 else "pg"
            if kind == "pg" and not have_pg:
                if count > 1:
                    print(f"\n== {count} nodes: SKIPPED, they share a PostgreSQL database and "
                          f"{PG_ENV} is not set (CI sets it)", flush=True)  # fmt: skip
                    continue
                print(f"\n{PG_ENV} is not set: the single node runs on SQLite", flush=True)
                kind = "sqlite"
            verdicts.append(run_topology(count, kind, issuer, upstream, tokens, args))
    summarize(verdicts, args.check)


def summarize(verdicts: list[Verdict], check: bool) -> None:
    print("\n== summary")
    for verdict in verdicts:
        worst = max(verdict.growth.values(), default=0.0)
        print(f"{verdict.label}: {verdict.rate:,.0f} req/s, failures {verdict.failures}, "
              f"largest memory growth after warm-up {worst:+.1%}")  # fmt: skip
    if len(verdicts) > 1 and verdicts[0].rate:
        print(f"{verdicts[-1].label} / {verdicts[0].label}: "
              f"{verdicts[-1].rate / verdicts[0].rate:.2f}x the throughput, on the same "
              f"{os.cpu_count()} cores (every process of both runs shares them)")  # fmt: skip
    failed = [v.label for v in verdicts if v.failures]
    grown = [v.label for v in verdicts if max(v.growth.values(), default=0.0) >= GROWTH_LIMIT]
    if check and (failed or grown):
        print(
            f"CHECK FAILED: errors in {failed or 'none'}; memory grew >= 10% in {grown or 'none'}"
        )
        raise SystemExit(1)
    if check:
        print("check passed: no errors, memory flat (< 10% growth after warm-up)")


if __name__ == "__main__":
    main()
