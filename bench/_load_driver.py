"""The load generator of bench/load.py: a mixed workload over raw keep-alive connections.

Connection ``i`` talks to node ``i % nodes`` and runs one kind of traffic of the ``mix``,
``mix[(i // nodes) % len(mix)]``, so every kind reaches every node:

* ``federation``: ``AssumeRoleWithWebIdentity`` (Query), each request another token from a
  cycle of distinct RS256 tokens;
* ``pools``: ``GetId`` then ``GetCredentialsForIdentity`` with the ``IdentityId`` answered,
  the same ``Logins`` token in both; a ``new_share`` of the flows, evenly spread, are a new
  user's first login (while the process's new users' tokens last), the others a returning
  user's;
* ``gateway``: SigV4-signed S3 requests to the node's gateway with credentials minted by
  federation, ``GetObject`` of a 1 KiB object, one in ``put_every`` a ``PutObject`` of 1 KiB;
  each is signed at send time (fresh ``X-Amz-Date``) by the few lines of SigV4 below.

Any answer other than 200, a broken connection or a request still unanswered ``grace`` seconds
after the end is an error, counted by request kind and status (status 0: transport error or
timeout). Latencies and throughput count the requests started after ``warmup``; errors count
the whole run. Every process starts at the same wall-clock instant (``start_at``), so the
per-second completion counts of all processes line up with the memory samples.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

__all__ = ["GET_ID", "KINDS", "MIX", "Job", "Outcome", "Player", "Workload", "run_job"]

STS = "sts:AssumeRoleWithWebIdentity"
GET_ID = "cognito:GetId"
GET_CREDENTIALS = "cognito:GetCredentialsForIdentity"
S3_GET = "s3:GetObject (gateway)"
S3_PUT = "s3:PutObject (gateway)"
KINDS = (STS, GET_ID, GET_CREDENTIALS, S3_GET, S3_PUT)
MIX = ("federation", "pools", "gateway")
REGION = "us-east-1"
PAYLOAD = b"L" * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
FORM = "application/x-www-form-urlencoded; charset=utf-8"
JSON_1_1 = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class Player:
    """Temporary credentials from ``AssumeRoleWithWebIdentity`` and the player's own prefix."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    prefix: str


@dataclass(frozen=True)
class Workload:
    """Everything the connections send, prepared before the clock starts."""

    nodes: tuple[tuple[int, int], ...]  # (serve port, gateway port) per node
    role_arn: str
    federation_tokens: tuple[str, ...]
    pool_id: str
    logins_key: str
    returning_tokens: tuple[str, ...]
    newcomer_tokens: tuple[str, ...]  # this process's share; each used once
    new_share: float  # of the identity-pool flows: a new user's first login
    players: tuple[Player, ...]
    bucket: str
    mix: tuple[str, ...] = MIX
    put_every: int = 4


@dataclass(frozen=True)
class Job:
    workload: Workload
    connections: tuple[int, ...]  # this process's connection numbers
    start_at: float  # wall clock (time.time())
    warmup: float
    seconds: float
    grace: float = 30.0


@dataclass
class Outcome:
    """One process's (or, merged, the whole run's) measurements."""

    latencies_ms: dict[str, array[float]] = field(
        default_factory=lambda: {kind: array("d") for kind in KINDS}
    )
    requests: Counter[str] = field(default_factory=Counter)  # all, warm-up included
    errors: Counter[tuple[str, int]] = field(default_factory=Counter)
    first_error: dict[tuple[str, int], str] = field(default_factory=dict)
    per_second: array[int] = field(default_factory=lambda: array("q"))
    new_logins: int = 0

    def merge(self, other: Outcome) -> None:
        for kind in KINDS:
            self.latencies_ms[kind].extend(other.latencies_ms[kind])
        self.requests.update(other.requests)
        self.errors.update(other.errors)
        for key, text in other.first_error.items():
            self.first_error.setdefault(key, text)
        if len(self.per_second) < len(other.per_second):
            self.per_second.extend([0] * (len(other.per_second) - len(self.per_second)))
        for second, count in enumerate(other.per_second):
            self.per_second[second] += count
        self.new_logins += other.new_logins


# --- HTTP/1.1 on a raw stream ----------------------------------------------------------------


def _request(
    method: str, port: int, path: str, headers: list[tuple[str, str]], body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body (``Content-Length`` or chunked) and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, keep_alive = 0, False, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and value == b"chunked":
            chunked = True
        elif name == b"connection" and value == b"close":
            keep_alive = False
    if not chunked:
        return status, (await reader.readexactly(length) if length else b""), keep_alive
    pieces = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        pieces.append((await reader.readexactly(size + 2))[:-2])
    await reader.readuntil(b"\r\n")  # no trailers are sent to us: the last CRLF
    return status, b"".join(pieces), keep_alive


# --- SigV4 for the gateway's S3 requests (AWS General Reference, "Signature Version 4") -------


def _signing_key(secret: str, day: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_s3_request(
    method: str, port: int, path: str, body: bytes, player: Player, now: datetime, key: bytes
) -> bytes:
    """A path-style S3 request signed in the ``Authorization`` header; ``key`` is the day's
    signing key. Paths here are plain ASCII, so the canonical URI is the path itself."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    payload_hash = PAYLOAD_SHA256 if body else EMPTY_SHA256
    headers = [
        ("host", f"127.0.0.1:{port}"),
        ("x-amz-content-sha256", payload_hash),
        ("x-amz-date", stamp),
        ("x-amz-security-token", player.session_token),
    ]
    names = ";".join(name for name, _ in headers)
    canonical = "\n".join(
        [method, path, "", *(f"{n}:{v}" for n, v in headers), "", names, payload_hash]
    )
    scope = f"{stamp[:8]}/{REGION}/s3/aws4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={player.access_key_id}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return _request(method, port, path, [*headers[1:], ("Authorization", authorization)], body)


# --- the connections ---------------------------------------------------------------------------


class _Connection:
    """One keep-alive connection to one port; records every exchange in the outcome."""

    def __init__(self, port: int, job: Job, outcome: Outcome, started: float) -> None:
        self.port = port
        self.outcome = outcome
        self.started = started  # perf_counter at start_at
        self.measure_from = started + job.warmup
        self.until = started + job.seconds
        self.stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.kind = ""

    def running(self) -> bool:
        return time.perf_counter() < self.until

    async def exchange(self, kind: str, request: bytes) -> tuple[int, bytes]:
        self.kind = kind
        began = time.perf_counter()
        try:
            if self.stream is None:
                self.stream = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.stream
            writer.write(request)
            status, body, keep_alive = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            status, body, keep_alive = 0, repr(error).encode(), False
        finished = time.perf_counter()
        if not keep_alive:
            self.close()
        self.kind = ""
        self._record(kind, status, body, began, finished)
        return status, body

    def _record(self, kind: str, status: int, body: bytes, began: float, finished: float) -> None:
        outcome = self.outcome
        outcome.requests[kind] += 1
        second = int(finished - self.started)
        if second >= 0:
            if len(outcome.per_second) <= second:
                outcome.per_second.extend([0] * (second + 1 - len(outcome.per_second)))
            outcome.per_second[second] += 1
        if status != 200:
            outcome.errors[(kind, status)] += 1
            outcome.first_error.setdefault((kind, status), body[:300].decode("latin-1"))
        elif began >= self.measure_from:
            outcome.latencies_ms[kind].append((finished - began) * 1000.0)

    def timed_out(self) -> None:
        """The run ended with a request of this connection still unanswered."""
        if self.kind:
            self.outcome.requests[self.kind] += 1
            self.outcome.errors[(self.kind, 0)] += 1
            self.outcome.first_error.setdefault((self.kind, 0), "no answer by the end of the run")
        self.close()

    def close(self) -> None:
        if self.stream is not None:
            self.stream[1].close()
            self.stream = None


async def _federation(connection: _Connection, workload: Workload, position: int) -> None:
    port = connection.port
    requests = [
        _request(
            "POST",
            port,
            "/",
            [("Content-Type", FORM)],
            urlencode(
                {
                    "Action": "AssumeRoleWithWebIdentity",
                    "Version": "2011-06-15",
                    "RoleArn": workload.role_arn,
                    "RoleSessionName": "load",
                    "WebIdentityToken": token,
                }
            ).encode(),
        )
        for token in workload.federation_tokens
    ]
    while connection.running():
        await connection.exchange(STS, requests[position % len(requests)])
        position += 7  # connections walk the cycle from different places


class _Newcomers:
    """Hands out new users' tokens to a ``new_share`` of the process's flows, evenly spread."""

    def __init__(self, workload: Workload) -> None:
        self.tokens = workload.newcomer_tokens
        self.share = workload.new_share
        self.flows = 0
        self.used = 0

    def next(self) -> str | None:
        self.flows += 1
        if self.used >= len(self.tokens) or self.used >= self.share * self.flows:
            return None
        self.used += 1
        return self.tokens[self.used - 1]


async def _pools(
    connection: _Connection, workload: Workload, position: int, newcomers: _Newcomers
) -> None:
    port = connection.port
    get_id = [("Content-Type", JSON_1_1), ("X-Amz-Target", "AWSCognitoIdentityService.GetId")]
    credentials = [
        ("Content-Type", JSON_1_1),
        ("X-Amz-Target", "AWSCognitoIdentityService.GetCredentialsForIdentity"),
    ]
    while connection.running():
        token = newcomers.next()
        if token is None:
            token = workload.returning_tokens[position % len(workload.returning_tokens)]
            position += 7
        else:
            connection.outcome.new_logins += 1
        logins = {workload.logins_key: token}
        body = json.dumps({"IdentityPoolId": workload.pool_id, "Logins": logins}).encode()
        status, answer = await connection.exchange(
            GET_ID, _request("POST", port, "/", get_id, body)
        )
        if status != 200:
            continue
        identity_id = json.loads(answer)["IdentityId"]
        body = json.dumps({"IdentityId": identity_id, "Logins": logins}).encode()
        await connection.exchange(GET_CREDENTIALS, _request("POST", port, "/", credentials, body))


async def _gateway(connection: _Connection, workload: Workload, player: Player) -> None:
    keys: dict[str, bytes] = {}
    count = 0
    while connection.running():
        now = datetime.now(UTC)
        day = now.strftime("%Y%m%d")
        key = keys.get(day) or keys.setdefault(day, _signing_key(player.secret_access_key, day))
        count += 1
        if count % workload.put_every == 0:
            path = f"/{workload.bucket}/{player.prefix}/upload"
            request = signed_s3_request("PUT", connection.port, path, PAYLOAD, player, now, key)
            await connection.exchange(S3_PUT, request)
        else:
            path = f"/{workload.bucket}/{player.prefix}/save"
            request = signed_s3_request("GET", connection.port, path, b"", player, now, key)
            await connection.exchange(S3_GET, request)


def _traffic(workload: Workload, number: int) -> str:
    return workload.mix[(number // len(workload.nodes)) % len(workload.mix)]


def _player(workload: Workload, number: int) -> int:
    """Connection ``number``'s player: gateway connections (over all processes) each have their
    own, so no two write the same object at once."""
    ordinal = sum(1 for other in range(number) if _traffic(workload, other) == "gateway")
    return ordinal % len(workload.players)


async def _run(job: Job) -> Outcome:
    await asyncio.sleep(max(0.0, job.start_at - time.time()))
    started = time.perf_counter()
    workload, outcome = job.workload, Outcome()
    newcomers = _Newcomers(workload)
    nodes = len(workload.nodes)
    connections, tasks = [], []
    for number in job.connections:
        serve_port, gateway_port = workload.nodes[number % nodes]
        traffic = _traffic(workload, number)
        port = gateway_port if traffic == "gateway" else serve_port
        connection = _Connection(port, job, outcome, started)
        if traffic == "federation":
            work = _federation(connection, workload, number)
        elif traffic == "pools":
            work = _pools(connection, workload, number, newcomers)
        else:
            work = _gateway(connection, workload, workload.players[_player(workload, number)])
        connections.append(connection)
        tasks.append(asyncio.ensure_future(work))
    _, pending = await asyncio.wait(tasks, timeout=job.seconds + job.grace)
    for task in pending:
        task.cancel()
    for connection in connections:
        if connection.kind:
            connection.timed_out()
        connection.close()
    return outcome


def run_job(job: Job) -> Outcome:
    """One load process: its connections until ``start_at + seconds``; uvloop when installed."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    return asyncio.run(_run(job))
