"""Database faults, through a real ``webfed serve`` and real boto3 clients (issue 8, item 3).

* **PostgreSQL down and back.** The server reaches PostgreSQL through a :class:`TcpProxy`; the
  test cuts it (every connection reset, new ones refused) and restores it. While it is cut,
  calls that need the database answer ``ServiceUnavailable`` (HTTP 503, the protocol's own
  error envelope, no trace) within :data:`CALL_BOUND` seconds; ``/readyz`` answers 503 and
  ``/livez`` 200; calls that need no database keep working (``AssumeRoleWithWebIdentity`` for a
  role in the IAM cache, any call signed with temporary credentials). Once restored, everything
  works again without a restart within :data:`RECOVERY_BOUND` seconds. A cut during write
  traffic (the proxy slowed, so that transactions are in flight; the test counts the
  connections cut inside a transaction from PostgreSQL's own ``ReadyForQuery`` status) leaves
  no partial write.
* **PostgreSQL stuck.** Another session holds the account's revision row (an open
  transaction): IAM writes answer ``ServiceUnavailable`` after ``lock_timeout`` (5 s); reads,
  identity writes and exchanges go on.
* **SQLite "down".** A SQLite file cannot go away like a server; what happens in practice is
  another process holding the write lock (a tool's long transaction). Writes then wait
  ``REQUEST_BUSY_TIMEOUT_MS`` (5 s) and answer ``ServiceUnavailable``; reads never wait (WAL);
  once the lock is released writes succeed at once.
* **SIGKILL mid-write**, on both databases: several threads write (roles with tags, managed
  policies, new identities with their logins), the server's whole process tree is killed with
  SIGKILL, and a new server starts on the same database. Every acknowledged write is there, the
  SQLite file passes ``PRAGMA integrity_check``, nothing is half-written (every role has all of
  its tags, every policy its default version, every identity its login), the IAM revision
  counts exactly the IAM writes that committed, the schema is at the head revision, and the
  restarted server reads and writes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import httpx
import psycopg
import pytest
from botocore.config import Config

from tests.integration.conftest import (
    ADMIN_KEY_ID,
    ADMIN_SECRET,
    WebfedServer,
    fresh_postgres_database,
)
from tests.integration.test_federation_harness import policy_document, statement, unique
from tests.support.oidc_issuer import OidcTestIssuer
from tests.support.tcp_proxy import TcpProxy
from webfed.storage.engine import REQUEST_BUSY_TIMEOUT_MS
from webfed.storage.migrate import current_revision, head_revision

CLIENT_ID = "client-1"
COGNITO = "cognito-identity.amazonaws.com"
# A call during an outage must fail fast: the connection is refused at once.
CALL_BOUND = 3.0
# After the database is back, the first call that opens a fresh connection succeeds.
RECOVERY_BOUND = 5.0
# A write blocked by another process's SQLite lock waits the busy timeout, then fails.
LOCK_WAIT = REQUEST_BUSY_TIMEOUT_MS / 1000
QUERY_CODE, JSON_CODE = "ServiceUnavailable", "ServiceUnavailableException"
TAGS = [{"Key": f"k{index}", "Value": f"v{index}"} for index in range(5)]
TRUST = policy_document(statement({"Service": "ec2.amazonaws.com"}, "sts:AssumeRole"))
INLINE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


def client(server: WebfedServer, service: str, **credentials: str) -> Any:
    """A boto3 client that sends each call once (503 is retryable: the SDKs' default retries
    would hide the answer) and gives up reading after 20 s (no endless hang)."""
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=credentials.get("access_key_id", ADMIN_KEY_ID),
        aws_secret_access_key=credentials.get("secret_access_key", ADMIN_SECRET),
        aws_session_token=credentials.get("session_token"),
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
        ),
    )


def outcome(call: Callable[[], object]) -> tuple[str, int, float]:
    """The AWS error code (``"ok"`` on success), the HTTP status and the seconds ``call`` took."""
    started = time.monotonic()
    try:
        call()
    except botocore.exceptions.ClientError as error:
        response = error.response
        code = str(response["Error"]["Code"])
        status = int(response["ResponseMetadata"]["HTTPStatusCode"])
        return code, status, time.monotonic() - started
    return "ok", 200, time.monotonic() - started


@dataclass
class Site:
    """A server with an OpenID provider, a role trusting it and an identity pool."""

    server: WebfedServer
    issuer: OidcTestIssuer
    provider_arn: str = ""
    role_arn: str = ""
    pool_id: str = ""

    @property
    def prefix(self) -> str:
        return self.issuer.url.removeprefix("http://")

    def token(self, subject: str) -> str:
        return self.issuer.mint(self.issuer.claims(subject=subject))

    def set_up(self) -> None:
        iam = client(self.server, "iam")
        self.provider_arn = str(
            iam.create_open_id_connect_provider(
                Url=self.issuer.url, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
            )["OpenIDConnectProviderArn"]
        )
        trust = statement(
            {"Federated": self.provider_arn},
            "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {f"{self.prefix}:aud": CLIENT_ID}},
        )
        self.role_arn = str(
            iam.create_role(
                RoleName=unique("web"), AssumeRolePolicyDocument=policy_document(trust)
            )["Role"]["Arn"]
        )
        cognito = client(self.server, "cognito-identity")
        self.pool_id = str(
            cognito.create_identity_pool(
                IdentityPoolName="faults",
                AllowUnauthenticatedIdentities=False,
                OpenIdConnectProviderARNs=[self.provider_arn],
            )["IdentityPoolId"]
        )
        pool_trust = statement(
            {"Federated": COGNITO},
            "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {f"{COGNITO}:aud": self.pool_id}},
        )
        player = iam.create_role(
            RoleName=unique("player"), AssumeRolePolicyDocument=policy_document(pool_trust)
        )["Role"]["Arn"]
        cognito.set_identity_pool_roles(
            IdentityPoolId=self.pool_id, Roles={"authenticated": player}
        )

    # --- the calls -----------------------------------------------------------------------------

    def create_role(self, name: str) -> None:
        client(self.server, "iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=TRUST, Tags=TAGS
        )

    def create_policy(self, name: str) -> None:
        client(self.server, "iam").create_policy(PolicyName=name, PolicyDocument=INLINE, Tags=TAGS)

    def get_id(self, subject: str) -> str:
        result = client(self.server, "cognito-identity").get_id(
            IdentityPoolId=self.pool_id, Logins={self.prefix: self.token(subject)}
        )
        return str(result["IdentityId"])

    def assume(self, subject: str) -> dict[str, Any]:
        result = client(self.server, "sts").assume_role_with_web_identity(
            RoleArn=self.role_arn, WebIdentityToken=self.token(subject), RoleSessionName="faults"
        )
        credentials: dict[str, Any] = result["Credentials"]
        return credentials

    def caller(self, credentials: dict[str, Any]) -> str:
        sts = client(
            self.server,
            "sts",
            access_key_id=credentials["AccessKeyId"],
            secret_access_key=credentials["SecretAccessKey"],
            session_token=credentials["SessionToken"],
        )
        return str(sts.get_caller_identity()["Arn"])


@contextmanager
def site_on(database_url: str | None, data_dir: Path, workers: int = 1) -> Iterator[Site]:
    issuer = OidcTestIssuer(client_id=CLIENT_ID).start()
    env = {"WEBFED_ALLOW_HTTP_ISSUERS": "true", "WEBFED_WORKERS": str(workers)}
    server = WebfedServer(data_dir, database_url, env)
    try:
        server.start(timeout=60)
        site = Site(server, issuer)
        site.set_up()
        yield site
    finally:
        server.stop()
        issuer.stop()


def status_of(server: WebfedServer, path: str) -> int:
    return httpx.get(f"{server.url}{path}", timeout=10).status_code


def wait_until(check: Callable[[], bool], bound: float) -> float:
    """Poll ``check`` until it holds; the seconds that took (fails past ``bound``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < bound, f"not within {bound} s"
        time.sleep(0.05)
    return time.monotonic() - started


# --- PostgreSQL down and back -------------------------------------------------------------------


class TransactionStatus:
    """Each proxied PostgreSQL connection's transaction status, from the server's replies:
    every ``ReadyForQuery`` message (``Z``, length 5) ends with ``I`` (idle), ``T`` (in a
    transaction) or ``E`` (in a failed transaction)."""

    _READY_FOR_QUERY = b"Z\x00\x00\x00\x05"

    def __init__(self) -> None:
        self.last: dict[int, bytes] = {}

    def observe(self, number: int, data: bytes) -> None:
        at = data.rfind(self._READY_FOR_QUERY)
        if at != -1 and len(data) > at + 5:  # the status byte arrived in this chunk too
            self.last[number] = data[at + 5 : at + 6]

    def in_transaction(self, numbers: list[int]) -> int:
        return sum(1 for number in numbers if self.last.get(number) in (b"T", b"E"))


@dataclass
class Outage:
    site: Site
    proxy: TcpProxy
    direct_url: str  # the database itself, not through the proxy, for checks
    status: TransactionStatus


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A site whose server reaches PostgreSQL through a proxy the test can cut (shared by the
    module's PostgreSQL outage tests)."""
    status = TransactionStatus()
    with fresh_postgres_database() as direct:
        prefix, _, name = direct.rpartition("/")
        host, _, upstream = prefix.rpartition(":")
        with TcpProxy(int(upstream), on_reply=status.observe) as proxy:
            proxied = f"{host}:{proxy.port}/{name}"
            with site_on(proxied, tmp_path_factory.mktemp("outage")) as site:
                yield Outage(site, proxy, direct, status)


@pytest.fixture
def proxied_postgres(proxied_site: Outage) -> Iterator[Outage]:
    """The shared site, its proxy restored after each test whatever happened."""
    yield proxied_site
    proxied_site.proxy.delay = 0.0
    proxied_site.proxy.restore()


def raw_unsigned(server: WebfedServer, site: Site, protocol: str) -> httpx.Response:
    """An unsigned call needing the database, sent raw to see the wire: Query XML (STS, an
    unknown role, so the IAM cache asks the database) or JSON (Cognito GetId, a new login)."""
    if protocol == "query":
        form = {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::000000000000:role/not-cached",
            "RoleSessionName": "raw",
            "WebIdentityToken": site.token(unique("raw")),
        }
        return httpx.post(server.url, data=form, timeout=20)
    body = {"IdentityPoolId": site.pool_id, "Logins": {site.prefix: site.token(unique("raw"))}}
    headers = {
        "X-Amz-Target": "AWSCognitoIdentityService.GetId",
        "Content-Type": "application/x-amz-json-1.1",
    }
    return httpx.post(server.url, content=json.dumps(body), headers=headers, timeout=20)


def assert_unavailable_envelope(response: httpx.Response, protocol: str) -> None:
    assert response.status_code == 503, response.text
    assert "Traceback" not in response.text and "psycopg" not in response.text
    assert response.headers["x-amzn-RequestId"]
    if protocol == "query":
        assert response.headers["content-type"].startswith("text/xml")
        assert "<Code>ServiceUnavailable</Code>" in response.text
        assert "<Type>Receiver</Type>" in response.text
        assert response.headers["x-amzn-RequestId"] in response.text
    else:
        assert response.headers["x-amzn-ErrorType"] == "ServiceUnavailableException"
        assert response.json()["__type"] == "ServiceUnavailableException"


@pytest.mark.postgres
def test_postgresql_down_and_back(proxied_postgres: Outage) -> None:
    site, proxy = proxied_postgres.site, proxied_postgres.proxy
    known = unique("known")
    identity = site.get_id(known)
    role_name = unique("before")
    site.create_role(role_name)
    credentials = site.assume(unique("user"))  # the role and provider are now in the IAM cache

    proxy.cut()
    # Query services say ServiceUnavailable, JSON services ServiceUnavailableException.
    needing_database: dict[str, tuple[str, Callable[[], object]]] = {
        "CreateRole": (QUERY_CODE, lambda: site.create_role(unique("during"))),
        "PutRolePolicy": (
            QUERY_CODE,
            lambda: client(site.server, "iam").put_role_policy(
                RoleName=role_name, PolicyName="p", PolicyDocument=INLINE
            ),
        ),
        "GetRole": (QUERY_CODE, lambda: client(site.server, "iam").get_role(RoleName=role_name)),
        "GetId (new login)": (JSON_CODE, lambda: site.get_id(unique("new"))),
    }
    for name, (expected, call) in needing_database.items():
        code, status, took = outcome(call)
        assert (code, status) == (expected, 503), name
        assert took < CALL_BOUND, f"{name} took {took:.2f} s"
    time.sleep(1.2)  # past the pool's one-second memory: GetId of a known login reads the pool
    code, status, _ = outcome(lambda: site.get_id(known))
    assert (code, status) == (JSON_CODE, 503)
    for protocol in ("query", "json"):
        assert_unavailable_envelope(raw_unsigned(site.server, site, protocol), protocol)
    # Needing no database: the cached role's exchange, and temporary credentials' calls.
    assert site.caller(site.assume(unique("user"))).endswith("/faults")
    assert site.caller(credentials).endswith("/faults")
    assert status_of(site.server, "/readyz") == 503
    assert status_of(site.server, "/livez") == 200

    proxy.restore()
    restored = time.monotonic()
    recovered = wait_until(
        lambda: outcome(lambda: site.create_role(unique("after")))[0] == "ok", RECOVERY_BOUND
    )
    print(f"PostgreSQL restored: writes succeed after {recovered:.2f} s")
    assert status_of(site.server, "/readyz") == 200
    client(site.server, "iam").put_role_policy(
        RoleName=role_name, PolicyName="p", PolicyDocument=INLINE
    )
    assert site.get_id(known) == identity
    assert site.get_id(unique("new"))
    assert site.caller(site.assume(unique("user"))).endswith("/faults")
    print(f"PostgreSQL restored: everything works after {time.monotonic() - restored:.2f} s")
    assert site.server.process is not None and site.server.process.poll() is None  # no restart
    log = site.server.log()
    assert "database unavailable" in log and "Traceback" not in log


@pytest.mark.postgres
def test_postgresql_cut_during_writes_leaves_no_partial_write(proxied_postgres: Outage) -> None:
    site, proxy, direct = proxied_postgres.site, proxied_postgres.proxy, proxied_postgres.direct_url
    traffic = WriteTraffic(site)
    before = read_rows(direct)
    proxy.delay = 0.003  # each statement crosses the proxy 3 ms late: cuts land mid-transaction
    with traffic.running(threads=4):
        traffic.wait_for_acks(12, bound=30)
        cut = proxy.cut()
        time.sleep(0.5)
    proxy.delay = 0.0
    proxy.restore()
    mid_transaction = proxied_postgres.status.in_transaction(cut)
    print(
        f"cut during writes: {len(cut)} connections cut, {mid_transaction} inside a "
        f"transaction; {traffic.summary()}"
    )
    assert mid_transaction >= 1, "no transaction was cut in the middle"
    assert traffic.unavailable >= mid_transaction
    assert not traffic.unexpected, traffic.unexpected
    wait_until(
        lambda: outcome(lambda: site.create_role(unique("after")))[0] == "ok", RECOVERY_BOUND
    )
    check_consistency(read_rows(direct), before, traffic, extra_roles=1)


@pytest.mark.postgres
def test_postgresql_revision_row_locked_by_another_session(proxied_postgres: Outage) -> None:
    """PostgreSQL's equivalent of a held SQLite lock: another session's open transaction holds
    the account's revision row, which every IAM write updates first."""
    site = proxied_postgres.site
    known, role_name = unique("known"), unique("before")
    identity = site.get_id(known)
    site.create_role(role_name)
    plain = proxied_postgres.direct_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as holder:  # a transaction, open until the rollback below
        holder.execute("SELECT revision FROM account_revisions FOR UPDATE")
        code, status, took = outcome(lambda: site.create_role(unique("during")))
        assert (code, status) == (QUERY_CODE, 503)
        assert LOCK_WAIT - 0.5 < took < LOCK_WAIT + CALL_BOUND, took
        print(f"PostgreSQL revision row locked: an IAM write answers 503 after {took:.2f} s")
        started = time.monotonic()
        client(site.server, "iam").get_role(RoleName=role_name)
        assert site.get_id(known) == identity
        assert site.get_id(unique("new"))  # identities do not touch the revision row
        assert site.caller(site.assume(unique("user"))).endswith("/faults")
        assert time.monotonic() - started < CALL_BOUND
        assert status_of(site.server, "/readyz") == 200
        holder.rollback()
    code, _, took = outcome(lambda: site.create_role(unique("after")))
    assert code == "ok" and took < CALL_BOUND


# --- SQLite: another process holds the write lock ------------------------------------------------


def test_sqlite_locked_by_another_process(tmp_path: Path) -> None:
    with site_on(None, tmp_path / "data") as site:
        known = unique("known")
        identity = site.get_id(known)
        role_name = unique("before")
        site.create_role(role_name)
        holder = sqlite3.connect(site.server.data_dir / "webfed.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long tool transaction holds it
        try:
            code, status, took = outcome(lambda: site.create_role(unique("during")))
            assert (code, status) == ("ServiceUnavailable", 503)
            assert LOCK_WAIT - 0.5 < took < LOCK_WAIT + CALL_BOUND, took
            print(f"SQLite locked: a write answers 503 after {took:.2f} s")
            # Reads never wait for the writer (WAL): IAM reads, a known login, the exchange.
            started = time.monotonic()
            client(site.server, "iam").get_role(RoleName=role_name)
            time.sleep(1.2)  # past the pool's one-second memory
            assert site.get_id(known) == identity
            assert site.caller(site.assume(unique("user"))).endswith("/faults")
            assert time.monotonic() - started < 1.2 + CALL_BOUND
            assert status_of(site.server, "/readyz") == 200  # reads work: still ready
        finally:
            holder.rollback()
            holder.close()
        code, _, took = outcome(lambda: site.create_role(unique("after")))
        assert code == "ok" and took < CALL_BOUND
        assert site.get_id(unique("new"))
        assert "Traceback" not in site.server.log()


# --- SIGKILL mid-write ---------------------------------------------------------------------------


@dataclass
class WriteTraffic:
    """Threads writing roles (with tags), managed policies (with tags) and new identities."""

    site: Site
    acked_roles: list[str] = field(default_factory=list)
    acked_policies: list[str] = field(default_factory=list)
    acked_identities: dict[str, str] = field(default_factory=dict)  # subject -> identity id
    unavailable: int = 0
    failed: int = 0  # connection errors: the server died under the call
    unexpected: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acks(self) -> int:
        return len(self.acked_roles) + len(self.acked_policies) + len(self.acked_identities)

    def summary(self) -> str:
        return (
            f"{len(self.acked_roles)} roles, {len(self.acked_policies)} policies, "
            f"{len(self.acked_identities)} identities acknowledged; {self.unavailable} answered "
            f"503, {self.failed} lost with the connection"
        )

    def _one(self, round_: int) -> None:
        kind = round_ % 3
        name = f"traffic-{uuid.uuid4().hex[:12]}"
        try:
            if kind == 0:
                self.site.create_role(name)
            elif kind == 1:
                self.site.create_policy(name)
            else:
                identity = self.site.get_id(name)
        except botocore.exceptions.ClientError as error:
            code = str(error.response["Error"]["Code"])
            with self._lock:
                if code in (QUERY_CODE, JSON_CODE):
                    self.unavailable += 1
                else:
                    self.unexpected.append(code)
            return
        except (botocore.exceptions.BotoCoreError, OSError):
            with self._lock:
                self.failed += 1
            return
        with self._lock:
            if kind == 0:
                self.acked_roles.append(name)
            elif kind == 1:
                self.acked_policies.append(name)
            else:
                self.acked_identities[name] = identity

    def _loop(self, offset: int) -> None:
        round_ = offset
        while not self._stop.is_set():
            self._one(round_)
            round_ += 1

    @contextmanager
    def running(self, threads: int) -> Iterator[None]:
        with ThreadPoolExecutor(threads) as pool:
            futures = [pool.submit(self._loop, offset) for offset in range(threads)]
            try:
                yield
            finally:
                self._stop.set()
                for future in futures:
                    future.result(timeout=60)

    def wait_for_acks(self, count: int, bound: float) -> None:
        wait_until(lambda: self.acks >= count, bound)


@dataclass(frozen=True)
class Rows:
    """What the database holds of the traffic's kinds, read directly."""

    revisions: dict[str, int]
    role_tags: dict[str, int]  # role name -> tag rows
    policy_defaults: dict[str, int]  # policy name -> default version rows
    identity_logins: dict[str, int]  # identity id -> login rows
    login_subjects: dict[str, str]  # subject -> identity id


_QUERIES = {
    "revisions": "SELECT account_id, revision FROM account_revisions",
    "role_tags": "SELECT r.name, COUNT(t.owner_id) FROM roles r "
    "LEFT JOIN role_tags t ON t.owner_id = r.role_id GROUP BY r.name",
    "policy_defaults": "SELECT p.name, COUNT(v.number) FROM managed_policies p "
    "LEFT JOIN policy_versions v ON v.policy_id = p.policy_id AND v.is_default "
    "GROUP BY p.name",
    "identity_logins": "SELECT i.identity_id, COUNT(l.login_key) FROM identities i "
    "LEFT JOIN identity_logins l ON l.identity_id = i.identity_id GROUP BY i.identity_id",
    "login_subjects": "SELECT subject, identity_id FROM identity_logins",
}


def read_rows(url: str) -> Rows:
    """The rows of the database at ``url`` (a ``postgresql+psycopg://`` URL or a SQLite path)."""
    if url.startswith("postgresql"):
        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain) as connection:
            found = {key: dict(connection.execute(sql).fetchall()) for key, sql in _QUERIES.items()}
    else:
        connection = sqlite3.connect(url)
        try:
            found = {key: dict(connection.execute(sql).fetchall()) for key, sql in _QUERIES.items()}
        finally:
            connection.close()
    return Rows(**found)


def check_consistency(after: Rows, before: Rows, traffic: WriteTraffic, extra_roles: int) -> None:
    """Every acknowledged write is there and nothing is half-written."""
    assert set(traffic.acked_roles) <= after.role_tags.keys()
    assert set(traffic.acked_policies) <= after.policy_defaults.keys()
    for subject, identity in traffic.acked_identities.items():
        assert after.login_subjects[subject] == identity
    new_roles = {n: c for n, c in after.role_tags.items() if n.startswith("traffic-")}
    new_policies = {n: c for n, c in after.policy_defaults.items() if n.startswith("traffic-")}
    assert set(new_roles.values()) <= {len(TAGS)}, new_roles  # every role has all its tags
    assert set(new_policies.values()) <= {1}, new_policies  # every policy its default version
    assert set(after.identity_logins.values()) <= {1}  # every identity has its login
    # Each IAM write bumps the revision in its own transaction: the revision counts exactly
    # the IAM writes that committed.
    ((account, revision),) = after.revisions.items()
    committed = len(new_roles) + len(new_policies) + extra_roles
    assert revision == before.revisions[account] + committed
    print(
        f"after the fault: {len(new_roles)} roles, {len(new_policies)} policies, "
        f"{len(after.identity_logins) - len(before.identity_logins)} identities in the database"
    )


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def kill_tree(server: WebfedServer) -> int:
    """SIGKILL the server's master and workers at once; how many processes that was."""
    assert server.process is not None
    tree = process_tree(server.process.pid)
    for pid in tree:
        os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    server.stop()  # closes the log; the process is gone already
    return len(tree)


def sqlite_url(server: WebfedServer) -> str:
    return f"sqlite+aiosqlite:///{server.data_dir / 'webfed.db'}"


# Two worker processes on SQLite: two processes writing one file is where a kill could leave a
# lock or a torn WAL behind. One on PostgreSQL, whose server sees a dead client per connection
# either way (a second worker costs seconds of start-up twice).
@pytest.mark.parametrize(
    ("backend", "workers"),
    [("sqlite", 2), pytest.param("postgresql", 1, marks=pytest.mark.postgres)],
    ids=["sqlite", "postgresql"],
)
def test_sigkill_mid_write(backend: str, workers: int, tmp_path: Path) -> None:
    with (
        _database(backend, tmp_path) as postgres_url,
        site_on(postgres_url, tmp_path / "data", workers=workers) as site,
    ):
        server = site.server
        url = postgres_url or sqlite_url(server)
        direct = url if backend == "postgresql" else str(server.data_dir / "webfed.db")
        before = read_rows(direct)
        traffic = WriteTraffic(site)
        with traffic.running(threads=4):
            traffic.wait_for_acks(15, bound=60)
            killed = kill_tree(server)
        print(f"SIGKILL of {killed} processes ({backend}): {traffic.summary()}")
        assert not traffic.unexpected, traffic.unexpected
        if backend == "sqlite":
            wal = Path(f"{direct}-wal")
            print(f"left behind: a WAL of {wal.stat().st_size if wal.exists() else 0} bytes")
            with closing(sqlite3.connect(direct)) as connection:  # the first open recovers
                assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        check_consistency(read_rows(direct), before, traffic, extra_roles=0)
        server.start(timeout=60)
        assert current_revision(url) == head_revision()
        iam = client(server, "iam")
        for name in traffic.acked_roles[:5]:
            assert len(iam.list_role_tags(RoleName=name)["Tags"]) == len(TAGS)
        for subject, identity in list(traffic.acked_identities.items())[:5]:
            assert site.get_id(subject) == identity
        site.create_role(unique("restarted"))
        assert site.caller(site.assume(unique("user"))).endswith("/faults")


@contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    with fresh_postgres_database() as url:
        yield url
