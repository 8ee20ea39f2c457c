"""Fault: the nodes' clocks disagree (issue 8, item 3; docs/operations.md, "Clocks").

``webfed serve`` nodes on one PostgreSQL database, each under libfaketime with its own offset
from the real clock (``LD_PRELOAD`` of ``libfaketimeMT``, ``FAKETIME=+N``; the monotonic clock
is left alone, so timers and timeouts behave). The documented tolerance is
``TOLERANCE_SECONDS`` (5 s) between any two nodes and the machine that runs ``webfed sessions
revoke``.

Within the tolerance (nodes at -2 s and +3 s: 5 s apart), through boto3:

- credentials minted on any node work on every node;
- identity-pool tokens signed by any node (``GetOpenIdToken``) are accepted by
  ``AssumeRoleWithWebIdentity`` on every node;
- ``webfed sessions revoke --role`` (its moment from the real clock) refuses on every node the
  sessions issued more than the tolerance before it, and leaves those issued more than the
  tolerance after it working;
- a sealing-key rotation (``WEBFED_KEY_RELOAD_SECONDS=2``) never produces credentials that a
  node cannot open: the sealing lead's margin (a quarter of the reload interval + 5 s) covers
  the tolerance.

Beyond it (nodes at -8 min and +8 min: 16 minutes apart, each still within a client's
15-minute SigV4 window), the documented errors:

- 15-minute credentials minted on the node behind are ``ExpiredToken`` on the node ahead;
- identity-pool tokens signed by the node ahead are ``InvalidIdentityToken`` ("issued in the
  future") on the node behind (5 minutes of token skew);
- a revocation misses sessions that the node ahead minted in the minutes before it, and refuses
  sessions that the node behind mints in the minutes after it.

Skipped only when libfaketime is not installed (.ci/run installs Debian's ``faketime``); like
every multi-node test it needs ``WEBFED_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import base64
import glob
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from click.testing import CliRunner

from tests.integration.conftest import WebfedServer, fresh_postgres_database
from tests.integration.test_federation_harness import policy_document, statement, unique
from tests.support.oidc_issuer import OidcTestIssuer
from webfed.cli import main

TOLERANCE_SECONDS = 5  # docs/operations.md, "Clocks"
# Seconds from the real clock, per node: two within the tolerance (5 s apart), and two 16
# minutes apart (each within 8 minutes of the clients' clock, inside SigV4's 15).
NEAR_OFFSETS = (-2, 3)
FAR_OFFSETS = (-480, 480)
CLIENT_ID = "client-1"
COGNITO = "cognito-identity.amazonaws.com"
KEY_RELOAD_SECONDS = 2
PUBLIC_URL = "https://webfed.example.com"
REVOCATION_BOUND = 2.0 + 2.0  # docs/revocation.md: two seconds, plus slack for a loaded machine
# A rotated-in key seals once 1.25 x reload + 5 s old (docs/credentials.md), on every node.
SEALING_BOUND = KEY_RELOAD_SECONDS * 1.25 + 5 + KEY_RELOAD_SECONDS + TOLERANCE_SECONDS + 2

pytestmark = pytest.mark.postgres


def libfaketime() -> str | None:
    """The multithreaded libfaketime (uvicorn, aiosqlite and psycopg run threads)."""
    found = sorted(
        glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
        + glob.glob("/usr/lib/faketime/libfaketimeMT.so.1")
    )
    return found[0] if found else None


def faked_clock(offset: int) -> dict[str, str]:
    """The environment that shifts a child's wall clock by ``offset`` seconds."""
    library = libfaketime()
    if library is None:
        pytest.skip("libfaketime is not installed (apt-get install faketime; .ci/run does)")
    return {
        "LD_PRELOAD": library,
        "FAKETIME": f"{offset:+d}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


@dataclass
class Cluster:
    """Nodes with shifted clocks, their users' OpenID provider, and an identity pool."""

    nodes: list[WebfedServer]
    offsets: list[int]
    issuer: OidcTestIssuer
    database_url: str
    master_key: str
    cli_dir: Path
    provider_arn: str = ""
    pool_id: str = ""
    pool_role: str = ""

    @property
    def prefix(self) -> str:
        return self.issuer.url.removeprefix("http://")

    def at(self, offsets: tuple[int, ...]) -> list[WebfedServer]:
        """The nodes whose clocks run at ``offsets``, in that order."""
        return [self.nodes[self.offsets.index(offset)] for offset in offsets]

    def login(self, node: WebfedServer, subject: str) -> str:
        """A token of the users' provider, issued by the clock of ``node`` (the provider and
        the node agree; the 5 minutes of token skew between them are another matter)."""
        offset = self.offsets[self.nodes.index(node)]
        claims = self.issuer.claims(subject=subject, now=int(time.time()) + offset)
        return self.issuer.mint(claims)

    def role(self) -> str:
        iam = self.nodes[0].client("iam")
        trust = statement(
            {"Federated": self.provider_arn},
            "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {f"{self.prefix}:aud": CLIENT_ID}},
        )
        name = unique("clock")
        return str(
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy_document(trust))["Role"][
                "Arn"
            ]
        )

    def assume(self, node: WebfedServer, role_arn: str, duration: int = 900) -> dict[str, Any]:
        token = self.login(node, unique("user"))
        credentials: dict[str, Any] = node.client("sts").assume_role_with_web_identity(
            RoleArn=role_arn,
            WebIdentityToken=token,
            RoleSessionName="clock",
            DurationSeconds=duration,
        )["Credentials"]
        return credentials

    def pool_token(self, node: WebfedServer) -> str:
        """An identity-pool token signed by ``node`` (the classic flow's GetOpenIdToken)."""
        logins = {self.prefix: self.login(node, unique("player"))}
        cognito = node.client("cognito-identity")
        identity = cognito.get_id(IdentityPoolId=self.pool_id, Logins=logins)["IdentityId"]
        return str(cognito.get_open_id_token(IdentityId=identity, Logins=logins)["Token"])

    def run_cli(self, *args: str) -> str:
        result = CliRunner().invoke(
            main,
            [*args, "--database-url", self.database_url, "--data-dir", str(self.cli_dir)],
            env={"WEBFED_MASTER_KEY": self.master_key},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        return result.output


def error_code(call: Callable[[], object]) -> str | None:
    """The AWS error code ``call`` fails with, ``None`` if it succeeds."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def caller(node: WebfedServer, credentials: dict[str, Any]) -> Callable[[], object]:
    client = node.client(
        "sts",
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    )
    call: Callable[[], object] = client.get_caller_identity
    return call


def start_cluster(
    offsets: list[int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    clocks = [faked_clock(offset) for offset in offsets]  # skips first if there is no library
    master_key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    env = {
        "WEBFED_MASTER_KEY": master_key,
        "WEBFED_ALLOW_HTTP_ISSUERS": "true",
        "WEBFED_KEY_RELOAD_SECONDS": str(KEY_RELOAD_SECONDS),
        # One service behind one name, as behind a load balancer: the issuer of pool tokens.
        "WEBFED_PUBLIC_URL": PUBLIC_URL,
    }
    with fresh_postgres_database() as url:
        nodes = [
            WebfedServer(tmp_path_factory.mktemp("clock-node"), url, {**env, **clock})
            for clock in clocks
        ]
        issuer = OidcTestIssuer(client_id=CLIENT_ID).start()
        try:
            nodes[0].start(timeout=90)  # the migrations once, then the others at once
            with ThreadPoolExecutor(len(nodes)) as pool:
                list(pool.map(lambda node: node.start(timeout=90), nodes[1:]))
            cluster = Cluster(
                nodes, offsets, issuer, url, master_key, tmp_path_factory.mktemp("clock-cli")
            )
            _set_up(cluster)
            yield cluster
        finally:
            for node in nodes:
                node.stop()
            issuer.stop()


def _set_up(cluster: Cluster) -> None:
    """The IAM OIDC provider and an identity pool whose tokens a role trusts."""
    first = cluster.nodes[0]
    cluster.provider_arn = str(
        first.client("iam").create_open_id_connect_provider(
            Url=cluster.issuer.url, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
        )["OpenIDConnectProviderArn"]
    )
    cluster.pool_id = str(
        first.client("cognito-identity").create_identity_pool(
            IdentityPoolName="clocks",
            AllowUnauthenticatedIdentities=False,
            AllowClassicFlow=True,
            OpenIdConnectProviderARNs=[cluster.provider_arn],
        )["IdentityPoolId"]
    )
    trust = statement(
        {"Federated": COGNITO},
        "sts:AssumeRoleWithWebIdentity",
        {"StringEquals": {f"{COGNITO}:aud": cluster.pool_id}},
    )
    cluster.pool_role = str(
        first.client("iam").create_role(
            RoleName=unique("pool"), AssumeRolePolicyDocument=policy_document(trust)
        )["Role"]["Arn"]
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # The first node runs the migrations, then the others start at once.
    offsets = list(NEAR_OFFSETS + FAR_OFFSETS)
    yield from start_cluster(offsets, tmp_path_factory)


def assume_with_pool_token(node: WebfedServer, cluster: Cluster, token: str) -> object:
    return node.client("sts").assume_role_with_web_identity(
        RoleArn=cluster.pool_role, WebIdentityToken=token, RoleSessionName="pool"
    )


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


# --- the set-up itself --------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-480, -2, 3, 480])
def test_a_child_under_libfaketime_sees_the_shifted_clock(offset: int) -> None:
    """What the nodes rely on: Python's ``time.time()`` and ``datetime.now`` are shifted, the
    monotonic clock is not."""
    probe = (
        "import time, datetime; "
        "print(time.time(), datetime.datetime.now(datetime.UTC).timestamp(), time.monotonic())"
    )
    env = {**os.environ, **faked_clock(offset)}
    before_wall, before_monotonic = time.time(), time.monotonic()
    output = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    after_wall, after_monotonic = time.time(), time.monotonic()
    wall, aware, monotonic = (float(value) for value in output)
    for shifted in (wall, aware):
        assert before_wall + offset - 0.5 <= shifted <= after_wall + offset + 0.5
    assert before_monotonic - 0.5 <= monotonic <= after_monotonic + 0.5


def test_each_node_runs_on_its_own_clock(cluster: Cluster) -> None:
    """A node's clock shows in what it mints: ``Expiration`` is its now + the duration."""
    role = cluster.role()
    for node, offset in zip(cluster.nodes, cluster.offsets, strict=True):
        before = int(time.time())
        expiration = cluster.assume(node, role)["Expiration"]
        after = int(time.time()) + 1
        shown = int(expiration.timestamp()) - 900
        assert before + offset - 1 <= shown <= after + offset, (offset, expiration)


# --- within the tolerance -----------------------------------------------------------------------


def test_within_the_tolerance_credentials_minted_on_one_node_work_on_every_node(
    cluster: Cluster,
) -> None:
    role = cluster.role()
    near = cluster.at(NEAR_OFFSETS)
    for minted_on in near:
        credentials = cluster.assume(minted_on, role)
        for node in near:
            assert error_code(caller(node, credentials)) is None


def test_within_the_tolerance_pool_tokens_from_one_node_are_accepted_by_every_node(
    cluster: Cluster,
) -> None:
    near = cluster.at(NEAR_OFFSETS)
    for signed_by in near:
        token = cluster.pool_token(signed_by)
        for node in near:
            assert error_code(lambda: assume_with_pool_token(node, cluster, token)) is None  # noqa: B023


def test_within_the_tolerance_a_revocation_splits_sessions_by_issue_time(cluster: Cluster) -> None:
    """Sessions issued before the revocation's moment by more than the node ahead's lead are
    refused on every node; sessions issued after it by more than the node behind's lag work on
    every node (both within the tolerance; the extra second is the moment's rounding up)."""
    role = cluster.role()
    near = cluster.at(NEAR_OFFSETS)
    old = [cluster.assume(node, role) for node in near]
    time.sleep(max(NEAR_OFFSETS) + 1)
    cluster.run_cli("sessions", "revoke", "--role", role)
    time.sleep(-min(NEAR_OFFSETS) + 1)
    new = [cluster.assume(node, role) for node in near]

    def codes() -> set[str | None]:
        return {error_code(caller(node, credentials)) for node in near for credentials in old}

    deadline = time.monotonic() + REVOCATION_BOUND
    while codes() != {"InvalidClientTokenId"} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert codes() == {"InvalidClientTokenId"}
    for node in near:
        for credentials in new:
            assert error_code(caller(node, credentials)) is None


def sealing_key_id(session_token: str) -> str:
    """The sealing key id in a session token's header (docs/credentials.md, token format)."""
    return base64.urlsafe_b64decode(session_token[:12])[1:9].decode("ascii")


def test_within_the_tolerance_a_sealing_key_rotation_never_strands_credentials(
    cluster: Cluster,
) -> None:
    """From the rotation until every node seals with the new key, whatever any node seals,
    every node opens: the node ahead starts sealing with the new key early, but still after
    every node has loaded it."""
    role = cluster.role()
    near = cluster.at(NEAR_OFFSETS)
    new_key = cluster.run_cli("keys", "rotate").strip().rsplit(" ", 1)[1]
    rotated = time.monotonic()
    failures: list[tuple[int, int, str]] = []
    switched: set[int] = set()
    while len(switched) < len(near):
        assert time.monotonic() - rotated < SEALING_BOUND, f"only {switched} seal with the new key"
        for index, minting in enumerate(near):
            credentials = cluster.assume(minting, role)
            if sealing_key_id(credentials["SessionToken"]) == new_key:
                switched.add(index)
            for other, node in enumerate(near):
                code = error_code(caller(node, credentials))
                if code is not None:
                    failures.append((index, other, code))
    assert failures == []


# --- beyond it ----------------------------------------------------------------------------------


def test_beyond_the_tolerance_short_credentials_from_the_node_behind_are_expired_ahead(
    cluster: Cluster,
) -> None:
    behind, ahead = cluster.at(FAR_OFFSETS)
    credentials = cluster.assume(behind, cluster.role(), duration=900)
    assert error_code(caller(behind, credentials)) is None
    assert error_code(caller(ahead, credentials)) == "ExpiredToken"


def test_beyond_the_tolerance_pool_tokens_from_the_node_ahead_are_refused_behind(
    cluster: Cluster,
) -> None:
    behind, ahead = cluster.at(FAR_OFFSETS)
    token = cluster.pool_token(ahead)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        assume_with_pool_token(behind, cluster, token)
    assert caught.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert "issued in the future" in caught.value.response["Error"]["Message"]
    assert error_code(lambda: assume_with_pool_token(ahead, cluster, token)) is None


def test_beyond_the_tolerance_a_revocation_misses_and_overreaches(cluster: Cluster) -> None:
    """The revocation's moment is compared with issue times written by the minting node's
    clock: the node ahead's recent sessions look newer than the revocation and survive it; the
    node behind's later sessions look older and are refused."""
    behind, ahead = cluster.at(FAR_OFFSETS)
    role = cluster.role()
    minted_before = cluster.assume(ahead, role, duration=3600)
    time.sleep(1.1)
    cluster.run_cli("sessions", "revoke", "--role", role)
    time.sleep(1.1)
    minted_after = cluster.assume(behind, role, duration=3600)
    time.sleep(REVOCATION_BOUND)
    assert error_code(caller(ahead, minted_before)) is None
    assert error_code(caller(behind, minted_after)) == "InvalidClientTokenId"
