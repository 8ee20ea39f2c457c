"""Identity-pool flows under load: ``GetId`` then ``GetCredentialsForIdentity``, with up to a
million identities stored, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/pools.py [--database sqlite|postgresql|both]
[--identities 1000,1000000] [--seconds 10] [--connections 32] [--workers 2] [--processes 2]
[--tokens 20000] [--new-share 0.05] [--rate-limits] [--profile [--profile-dir DIR]]
[--seed-only]``.

Per database (a fresh SQLite file, or a throwaway PostgreSQL database created on the server of
``WEBFED_TEST_DATABASE_URL``, default ``postgresql+psycopg://root@127.0.0.1:5432/postgres``,
and dropped at the end):

1. ``webfed db upgrade`` makes the schema; a real ``webfed serve --workers N`` starts; through
   the API (boto3, administrator credentials) an IAM OIDC provider is registered for a test
   OpenID provider (``tests.support.OidcTestIssuer``, discovery + JWKS over HTTP on loopback),
   an identity pool lists it in ``OpenIdConnectProviderARNs``, and its ``authenticated`` role
   trusts ``cognito-identity.amazonaws.com`` for that pool (``aud``) and authenticated logins
   (``amr``). The server stops.
2. For each ``--identities`` count, smallest first: users are added straight into the database
   (``bench/_seed_identities.py``: identities and logins of that pool and provider, subjects
   ``player-NNNNNNN``) until the pool holds that many; the plans of ``GetId``'s reads are
   printed; the server starts again; one ``GetId`` for a seeded user must return the seeded
   identity (else the flows would only be creating identities, and the run stops).
3. ``--tokens`` ID tokens are minted before the clock starts, each one distinct (own ``jti``):
   a ``--new-share`` of them for users never seen (their first flow creates an identity, later
   flows with the same user find it), the rest for seeded users drawn uniformly from the whole
   pool, so lookups land all over the indexes. A flow is ``GetId(IdentityPoolId, Logins)`` then
   ``GetCredentialsForIdentity(IdentityId from the answer, Logins)``: two unsigned JSON 1.1
   requests, the token verified on each. ``bench/_loadgen.py`` runs the flows over
   ``--connections`` keep-alive connections (one connection first, for the unloaded latency).
   The server's per-pool rate limit (by default 1,000 calls/s per worker, and a flow is two
   calls of one pool) is turned off unless ``--rate-limits``: the bench measures the flows.

It prints, per database and count, flows/s, p50/p99 of the flow and of each request, errors,
how many identities the run created, the load average, the cores the workers, the load
generator and the whole machine kept busy during the load and their CPU time per flow (steadier
than flows/s when the machine is shared), how many sessions PostgreSQL opened during the runs
(connection churn of the server's pools), and the slowdown from the smallest to the largest
count. Before each load it prints the statements one ``GetId`` and one
``GetCredentialsForIdentity`` of an existing user send (captured from webfed's own code, run in
this process, SQLite's direct lookups included) and the database's plans of their reads. Load
generator, OpenID provider, server and database share this machine's cores. ``--profile``
samples the webfed workers with py-spy during each measured load and prints the share of their
time per function (inclusive, then self), keeping the raw samples in ``--profile-dir`` if given;
``--seed-only`` stops after seeding and the plans.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from _loadgen import LoadResult, Step, run_flows
from _seed_identities import (
    SeedTarget,
    count_identities,
    explain,
    identity_of,
    plain_postgresql_url,
    seed,
    subject,
)
from federation import ADMIN_KEY_ID, ADMIN_SECRET, _profile_workers, child, client, free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.oidc_issuer import OidcTestIssuer  # noqa: E402

CLIENT_ID = "bench-pool-app"
REGION = "us-east-1"
COGNITO = "cognito-identity.amazonaws.com"
DEFAULT_POSTGRESQL = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
JSON_HEADERS = (("Content-Type", "application/x-amz-json-1.1"),)


@dataclass(frozen=True)
class Pool:
    """The pool the flows use, and the ``Logins`` key of its OpenID provider."""

    pool_id: str
    account_id: str
    provider: str
    role_arn: str


# --- databases and servers ---------------------------------------------------------------------


@contextmanager
def database(kind: str, scratch: Path) -> Iterator[str]:
    """webfed's URL of a fresh database of ``kind``; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{scratch / 'webfed.db'}"
        return
    base = os.environ.get("WEBFED_TEST_DATABASE_URL") or DEFAULT_POSTGRESQL
    admin = plain_postgresql_url(base)
    name = f"webfed_bench_pools_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server_env(
    database_url: str, data_dir: Path, workers: int, port: int, *, rate_limits: bool = False
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    if not rate_limits:  # the per-pool limit (1,000 calls/s per worker) would cap the flows
        env["WEBFED_RATE_LIMIT_PER_ISSUER"] = "0"
    env.update(
        WEBFED_ADMIN_ACCESS_KEY_ID=ADMIN_KEY_ID,
        WEBFED_ADMIN_SECRET_ACCESS_KEY=ADMIN_SECRET,
        WEBFED_DATA_DIR=str(data_dir),
        WEBFED_DATABASE_URL=database_url,
        WEBFED_PORT=str(port),
        WEBFED_WORKERS=str(workers),
        WEBFED_REGION=REGION,
        WEBFED_LOG_LEVEL="warning",
        WEBFED_ALLOW_HTTP_ISSUERS="true",
        WEBFED_ISSUER_ALLOWED_NETWORKS="127.0.0.1/32",  # the test OpenID provider is loopback
    )
    return env


def upgrade(database_url: str, data_dir: Path) -> None:
    """``webfed db upgrade``: the real schema, from the shipped migrations."""
    env = _server_env(database_url, data_dir, 1, 0)
    command = [sys.executable, "-m", "webfed", "db", "upgrade"]
    subprocess.run(command, env=env, check=True, capture_output=True)


def serve(database_url: str, data_dir: Path, workers: int, *, rate_limits: bool = False) -> Any:
    """A ``webfed serve`` on ``database_url``; the data directory (master key) outlives it.
    Without ``rate_limits`` the per-issuer/per-pool limit is off (``--rate-limits`` keeps it)."""
    port = free_port()
    env = _server_env(database_url, data_dir, workers, port, rate_limits=rate_limits)
    command = [sys.executable, "-m", "webfed", "serve"]
    return child(command, env, f"http://127.0.0.1:{port}", "/healthz")


# --- the pool, through the API ----------------------------------------------------------------


def set_up_pool(url: str, issuer: OidcTestIssuer) -> Pool:
    iam = client("iam", url)
    cognito = client("cognito-identity", url)
    provider_arn = iam.create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="bench pool",
        AllowUnauthenticatedIdentities=False,
        OpenIdConnectProviderARNs=[provider_arn],
    )["IdentityPoolId"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": COGNITO},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{COGNITO}:aud": pool_id},
                    "ForAnyValue:StringLike": {f"{COGNITO}:amr": "authenticated"},
                },
            }
        ],
    }
    role_arn = iam.create_role(
        RoleName="BenchPoolAuthenticated", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    permissions = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::bench-saves/${{{COGNITO}:sub}}/*",
            }
        ],
    }
    iam.put_role_policy(
        RoleName="BenchPoolAuthenticated",
        PolicyName="own-saves",
        PolicyDocument=json.dumps(permissions),
    )
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role_arn})
    return Pool(
        pool_id=pool_id,
        account_id=role_arn.split(":")[4],
        provider=issuer.url.removeprefix("http://"),
        role_arn=role_arn,
    )


def check_seeded_user_found(
    url: str, database_url: str, pool: Pool, issuer: OidcTestIssuer, n: int
) -> None:
    """``GetId`` for seeded user ``n`` must answer the seeded identity, and credentials must
    come back for it: otherwise the benchmark would measure something else."""
    cognito = client("cognito-identity", url, unsigned=True)
    logins = {pool.provider: mint(issuer, subject(n), f"check-{n}")}
    answered = cognito.get_id(IdentityPoolId=pool.pool_id, Logins=logins)["IdentityId"]
    stored = identity_of(database_url, pool.pool_id, pool.provider, subject(n))
    if answered != stored:
        raise SystemExit(
            f"GetId for seeded {subject(n)} answered {answered}, the seeded identity is {stored}: "
            f"the flows do not find logins stored as (provider={pool.provider!r}, subject)"
        )
    credentials = cognito.get_credentials_for_identity(IdentityId=answered, Logins=logins)
    if not credentials["Credentials"].get("SessionToken"):
        raise SystemExit(f"GetCredentialsForIdentity answered no credentials: {credentials}")


# --- what the flows ask the database ----------------------------------------------------------


def captured_statements(
    database_url: str, data_dir: Path, pool: Pool, issuer: OidcTestIssuer, user: str
) -> dict[str, list[tuple[str, Any]]]:
    """The SQL (and parameters) that one ``GetId`` and one ``GetCredentialsForIdentity`` for
    ``user`` send to the database, captured from webfed's own code: the app runs in this process
    (Starlette's test client, lifespan included) with a listener on every engine's statements.
    So the plans shown are those of the queries the server really makes, whatever the
    repository's code becomes."""
    import warnings

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from webfed.admin import AdminCredentials
    from webfed.http.app import create_app
    from webfed.http.front import AwsFrontDoor
    from webfed.logs import configure_logging
    from webfed.settings import Settings
    from webfed.storage import local_reads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's note on its httpx-based test client
        from starlette.testclient import TestClient

    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        region=REGION,
        allow_http_issuers=True,
        issuer_allowed_networks="127.0.0.1/32",
        rate_limit_per_issuer=0,
        log_level="warning",
    )
    configure_logging(settings.log_format, settings.log_level)  # no audit lines on the console
    app = AwsFrontDoor(create_app(settings, AdminCredentials(ADMIN_KEY_ID, ADMIN_SECRET)))
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cursor: Any, sql: str, parameters: Any, _x: Any, _many: bool) -> None:
        seen.append((sql, parameters))

    def read_directly(connection: Any, prepared: Any, params: Any) -> Any:
        seen.append((prepared.sql, tuple(params[name] for name in prepared.names)))
        return real_read(connection, prepared, params)

    captured: dict[str, list[tuple[str, Any]]] = {}
    event.listen(Engine, "before_cursor_execute", listen)
    real_read, local_reads.read = local_reads.read, read_directly  # SQLite's direct lookups
    try:
        with TestClient(app, base_url="http://127.0.0.1") as http:
            for attempt in ("warm-up", "captured"):  # the second flow finds the caches warm
                logins = {pool.provider: mint(issuer, user, f"explain-{user}-{attempt}")}
                identity_id = ""
                for operation, body in (
                    ("GetId", {"IdentityPoolId": pool.pool_id, "Logins": logins}),
                    ("GetCredentialsForIdentity", {"IdentityId": "", "Logins": logins}),
                ):
                    body["IdentityId"] = identity_id or body.get("IdentityId", "")
                    if operation == "GetId":
                        del body["IdentityId"]
                    seen.clear()
                    headers = dict((*JSON_HEADERS, _target(operation)))
                    answer = http.post("/", content=json.dumps(body), headers=headers)
                    if answer.status_code != 200:
                        raise SystemExit(f"{operation}: {answer.status_code} {answer.text}")
                    identity_id = answer.json()["IdentityId"]
                    captured[operation] = list(seen)
    finally:
        event.remove(Engine, "before_cursor_execute", listen)
        local_reads.read = real_read
    return captured


def print_statements(
    database_url: str, data_dir: Path, pool: Pool, issuer: OidcTestIssuer, user: str
) -> None:
    """How many statements each call of a flow makes for an existing user, and the plans of
    its reads of the identity tables."""
    for operation, statements in captured_statements(
        database_url, data_dir, pool, issuer, user
    ).items():
        reads = [
            (sql, parameters)
            for sql, parameters in statements
            if sql.lstrip().upper().startswith("SELECT") and "identit" in sql
        ]
        print(f"  {operation} for an existing user, caches warm: {len(statements)} statements")
        for sql, _ in statements:
            print(f"    {' '.join(sql.split())[:96]}")
        print("  plans of its reads of the identity tables:")
        print("\n".join("    " + line for line in explain(database_url, reads)), flush=True)


def postgresql_sessions(database_url: str) -> int | None:
    """Sessions PostgreSQL has opened on the database so far (``pg_stat_database``; counts
    the connections webfed's pools open, so churn beyond the pool size shows), or ``None`` on
    SQLite."""
    if database_url.startswith("sqlite"):
        return None
    name = database_url.rpartition("/")[2]
    with psycopg.connect(plain_postgresql_url(database_url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return None if row is None else int(row[0])


# --- tokens and flows -------------------------------------------------------------------------


def mint(issuer: OidcTestIssuer, user: str, jti: str) -> str:
    return issuer.mint(issuer.claims(subject=user, lifetime=3600, jti=jti))


def make_flows(
    issuer: OidcTestIssuer, pool: Pool, *, stored: int, tokens: int, new_share: float, tag: str
) -> tuple[list[tuple[Step, Step]], int]:
    """``tokens`` flows (distinct tokens, shuffled) and how many of them are for new users."""
    rng = random.Random(f"{tag}-{stored}")
    new = round(tokens * new_share)
    users = [subject(rng.randrange(stored)) for _ in range(tokens - new)]
    users += [f"newcomer-{tag}-{n:06d}" for n in range(new)]
    rng.shuffle(users)
    flows = []
    for number, user in enumerate(users):
        logins = {pool.provider: mint(issuer, user, f"{tag}-{number}")}
        get_id = json.dumps({"IdentityPoolId": pool.pool_id, "Logins": logins}).encode()
        credentials = json.dumps({"IdentityId": "{{IdentityId}}", "Logins": logins}).encode()
        flows.append(
            (
                Step("/", (*JSON_HEADERS, _target("GetId")), get_id, capture=("IdentityId",)),
                Step("/", (*JSON_HEADERS, _target("GetCredentialsForIdentity")), credentials),
            )
        )
    return flows, new


def _target(operation: str) -> tuple[str, str]:
    return ("X-Amz-Target", f"AWSCognitoIdentityService.{operation}")


# --- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    stored: int
    created: int
    result: LoadResult


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def describe(label: str, result: LoadResult) -> str:
    steps = ", ".join(
        f"{name} p50 {result.step_percentile(i, 0.5):.2f} / "
        f"p99 {result.step_percentile(i, 0.99):.2f} ms"
        for i, name in enumerate(("GetId", "GetCredentialsForIdentity"))
        if result.step_latencies_ms and result.step_latencies_ms[i]
    )
    return result.report(label, unit="flow") + (f"; {steps}" if steps else "")


def measure(
    label: str,
    server: tuple[str, subprocess.Popen[bytes]],
    flows: list[tuple[Step, Step]],
    args: argparse.Namespace,
) -> LoadResult:
    url, process = server
    host, port = url.removeprefix("http://").split(":")
    single = run_flows(host, int(port), flows, connections=1, seconds=2, processes=1)
    print("  " + describe(f"{label}, 1 connection", single), flush=True)
    print(f"  before the load: {load_average()}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="webfed-profile-") as scratch,
        ThreadPoolExecutor() as pool,
    ):
        window = (2.5, max(1.0, args.seconds - 1.0))  # inside the measured part of the run
        busy = pool.submit(_cpu_busy, process.pid, *window)
        spying = None
        if args.profile:
            out = Path(args.profile_dir or scratch) / label.replace(",", "").replace(" ", "-")
            out.mkdir(parents=True, exist_ok=True)
            spying = pool.submit(_delayed_profile, process.pid, args.seconds, out)
        result = run_flows(
            host,
            int(port),
            flows,
            connections=args.connections,
            seconds=args.seconds,
            warmup=2.0,
            processes=args.processes,
        )
        print("  " + describe(f"{label}, {args.connections} connections", result), flush=True)
        print(f"  after the load: {load_average()}", flush=True)
        print("  " + describe_cpu(busy.result(), result.rate), flush=True)
        if spying is not None:
            print_profile(spying.result())
    return result


def _ticks(pid: int | str) -> int:
    """User + system CPU ticks of a process so far (``/proc/PID/stat``), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _children(parent: int) -> list[int]:
    command = ["pgrep", "-P", str(parent)]
    found = subprocess.run(command, check=False, capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _spy(pid: int) -> bool:
    """Whether ``pid`` is one of ``--profile``'s py-spy processes (not the load generator)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "py-spy"
    except OSError:
        return False


def _machine_ticks() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine (``/proc/stat``; other helpers too)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _cpu_busy(server: int, delay: float, seconds: float) -> dict[str, float]:
    """Cores kept busy, during ``seconds`` after ``delay``, by the server's workers, by the load
    generator's processes (this process's other children) and by the whole machine."""
    time.sleep(delay)
    workers = _children(server)
    generators = [pid for pid in _children(os.getpid()) if pid != server and not _spy(pid)]
    groups = {"workers": workers, "load generator": generators}
    before = {name: sum(_ticks(pid) for pid in pids) for name, pids in groups.items()}
    machine_before, start = _machine_ticks(), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    hertz = os.sysconf("SC_CLK_TCK")
    cores = {
        name: (sum(_ticks(pid) for pid in pids) - before[name]) / hertz / elapsed
        for name, pids in groups.items()
    }
    machine_after = _machine_ticks()
    busy = machine_after[0] - machine_before[0]
    cores["machine"] = os.cpu_count() or 1
    cores["machine"] *= busy / max(1, machine_after[1] - machine_before[1])
    return cores


def describe_cpu(cores: dict[str, float], rate: float) -> str:
    """Cores busy per group and CPU time per flow: steadier than flows/s on a shared machine."""
    per_flow = ", ".join(
        f"{name} {value:.2f} cores ({1e6 * value / rate:,.0f} us/flow)" if rate else name
        for name, value in cores.items()
    )
    return f"CPU during the load: {per_flow}"


def _delayed_profile(parent: int, seconds: float, out: Path) -> list[Path]:
    time.sleep(2.5)  # the load generator's start-up and warm-up
    return _profile_workers(parent, max(1.0, seconds - 1.0), out)


def _frame_name(frame: str) -> str:
    function, _, where = frame.rpartition(" (")
    path = where.split(":")[0]
    for marker in ("site-packages/", "src/"):
        path = path.split(marker)[-1]
    return f"{function} ({path})"


def print_profile(samples: list[Path], top: int = 30) -> None:
    """Inclusive share of the workers' samples per function of webfed and its libraries, then
    the functions the samples were in (self time, any code), to see what the time is spent on."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in samples:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            total += int(count)
            frames = stack.split(";")
            leaves[_frame_name(frames[-1])] += int(count)
            for name in {_frame_name(frame) for frame in frames}:
                inclusive[name] += int(count)
    interesting = (
        "webfed/",
        "joserfc/",
        "cryptography/",
        "sqlalchemy/",
        "aiosqlite/",
        "psycopg/",
        "RequestResponseCycle.send",
    )
    print(f"  profile: {total} samples of the workers (inclusive share)")
    shown = [(n, c) for n, c in inclusive.most_common() if any(m in n for m in interesting)]
    for name, count in shown[:top]:
        print(f"    {100 * count / max(total, 1):5.1f}%  {name}")
    print("  self time:")
    for name, count in leaves.most_common(top // 2):
        print(f"    {100 * count / max(total, 1):5.1f}%  {name}")


def run_database(
    kind: str, issuer: OidcTestIssuer, counts: list[int], args: argparse.Namespace
) -> list[Measured]:
    measured: list[Measured] = []
    with (
        tempfile.TemporaryDirectory(prefix="webfed-bench-pools-") as scratch,
        database(kind, Path(scratch)) as database_url,
    ):
        data_dir = Path(scratch)
        upgrade(database_url, data_dir)
        with serve(database_url, data_dir, args.workers) as server:
            pool = set_up_pool(server[0], issuer)
        print(
            f"{kind}: pool {pool.pool_id}, logins of provider {pool.provider}, "
            f"authenticated role {pool.role_arn}",
            flush=True,
        )
        target = SeedTarget(database_url, pool.account_id, REGION, pool.pool_id, pool.provider)
        seeded = 0
        for count in counts:
            phases = seed(target, seeded, count, now=datetime.now(UTC))
            print(f"{kind}: seeded users {seeded:,} to {count - 1:,} in {phases}", flush=True)
            seeded = count
            stored = count_identities(database_url, pool.pool_id)
            print(f"{kind}: {stored:,} identities stored", flush=True)
            print_statements(database_url, data_dir, pool, issuer, subject(count // 2))
            if args.seed_only:
                continue
            tag = f"{kind}-{count}"
            flows, new = make_flows(
                issuer, pool, stored=count, tokens=args.tokens, new_share=args.new_share, tag=tag
            )
            print(f"{kind}: {len(flows):,} flows minted, {new:,} of them for new users", flush=True)
            with serve(
                database_url, data_dir, args.workers, rate_limits=args.rate_limits
            ) as server:
                check_seeded_user_found(server[0], database_url, pool, issuer, count - 1)
                sessions = postgresql_sessions(database_url)
                result = measure(f"{kind}, {stored:,} identities", server, flows, args)
                if sessions is not None:
                    opened = (postgresql_sessions(database_url) or 0) - sessions
                    print(f"  PostgreSQL sessions opened during the runs: {opened:,}")
            created = count_identities(database_url, pool.pool_id) - stored
            print(f"  identities the flows created (all runs, warm-up too): {created:,}")
            measured.append(Measured(stored, created, result))
    return measured


def slowdown(kind: str, measured: list[Measured]) -> None:
    if len(measured) < 2:
        return
    first, last = measured[0], measured[-1]
    if not first.result.rate:
        return
    drop = 100.0 * (first.result.rate - last.result.rate) / first.result.rate
    p99_first, p99_last = first.result.percentile(0.99), last.result.percentile(0.99)
    print(
        f"{kind}: {first.stored:,} -> {last.stored:,} identities: flows/s "
        f"{first.result.rate:,.0f} -> {last.result.rate:,.0f} (slowdown {drop:+.1f}%), "
        f"p99 {p99_first:.2f} -> {p99_last:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--identities", default="1000,1000000", help="counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--tokens", type=int, default=20_000, help="distinct tokens per run")
    parser.add_argument("--new-share", type=float, default=0.05, help="tokens of new users")
    parser.add_argument("--profile", action="store_true", help="py-spy the webfed workers")
    parser.add_argument("--profile-dir", help="keep --profile's raw samples (py-spy) here")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep the server's per-pool rate limit (default: off, to measure the flows)",
    )
    parser.add_argument("--seed-only", action="store_true", help="seed and explain, no load")
    args = parser.parse_args()
    counts = sorted({int(value.replace("_", "")) for value in args.identities.split(",")})
    if counts[0] < 1:
        parser.error("--identities: every count must be at least 1")
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]

    print(
        f"machine: {os.cpu_count()} cores, shared by the server (--workers {args.workers}), "
        f"the load generator ({args.processes} processes, {args.connections} connections) "
        f"and the OpenID provider; {load_average()}",
        flush=True,
    )
    print(
        f"flows: GetId + GetCredentialsForIdentity, {args.tokens:,} distinct tokens per run, "
        f"{args.new_share:.0%} for new users; {args.seconds:g} s measured after 2 s of warm-up; "
        f"per-pool rate limit {'as configured by default' if args.rate_limits else 'off'}",
        flush=True,
    )
    with OidcTestIssuer(client_id=CLIENT_ID) as issuer:
        results = {kind: run_database(kind, issuer, counts, args) for kind in kinds}
    for kind, measured in results.items():
        slowdown(kind, measured)


if __name__ == "__main__":
    main()
