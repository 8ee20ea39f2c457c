"""Fault: the disk under SQLite fills up while writes run (issue 8, item 3).

A real ``webfed serve`` keeps its SQLite database (file, WAL and shared-memory index) in a
directory whose space runs out while three threads keep creating roles through boto3. Checked:

- every write refused meanwhile fails at once with a clean AWS error (``ServiceUnavailable``
  503, ``Type`` ``Receiver``, a request id, no stack trace and no
  driver message in the body), never a hang;
- the process stays up and ready, and reads keep working: ``GetRole``, ``ListRoles``,
  ``DescribeIdentity``, and the web identity flow (``AssumeRoleWithWebIdentity`` and a call
  signed with its credentials: minting writes nothing to the database), while a new guest
  identity (``GetId``) is refused like the role writes, in the JSON protocol's spelling;
- ``PRAGMA integrity_check`` answers ``ok`` while the disk is full and after the server stops;
- once space is freed, writes succeed again without a restart;
- nothing is lost or half-written: every role whose ``CreateRole`` answered 200 is there, no role
  whose ``CreateRole`` failed is, and every call made during the fault (failed or not) reaches
  the ``audit_events`` table (the audit sink keeps its batches queued while the disk is full).

How the disk fills, two real errors from the kernel:

- ``tmpfs``: the database lives on a tmpfs of 8 MiB mounted for the test
  (``mount -t tmpfs -o size=8m``); a filler file takes every free block (``ENOSPC``) and its
  deletion frees them. Mounting needs ``CAP_SYS_ADMIN``: without it (an unprivileged container)
  this case is skipped, and the next one still runs.
- ``file-size-limit``: no mount needed, so it runs everywhere. The server's ``RLIMIT_FSIZE`` is
  lowered to 0 while it runs (``prlimit(2)`` on its process; the hard limit stays unlimited, so
  it is raised back the same way): from then on every ``write(2)`` it makes to a regular file
  fails with ``EFBIG`` (Python ignores ``SIGXFSZ``, so the process is not killed). That is a
  stricter disk than a full one (not even a block already allocated may be rewritten). The
  server's own log goes through a pipe here, since the limit would otherwise cut its log file.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import botocore.exceptions
import httpx
import pytest

from tests.integration.conftest import WebfedServer
from tests.integration.test_federation_harness import (
    CLIENT_ID,
    HTTP_ISSUERS,
    policy_document,
    statement,
    unique,
)
from tests.support.oidc_issuer import OidcTestIssuer

TMPFS_SIZE = "8m"
WRITERS = 3
CALL_BOUND = 10.0  # seconds one refused write may take at most: "no hang"
FAULT_BOUND = 30.0  # seconds for the writers to hit the full disk after it fills
RECOVERY_BOUND = 10.0  # seconds for writes to succeed again once space is freed
SERVER_ERRORS = {("ServiceUnavailable", 503)}
JSON_SERVER_ERRORS = {("ServiceUnavailableException", 503)}
TRUST = policy_document(statement({"Service": "ec2.amazonaws.com"}, "sts:AssumeRole"))
DESCRIPTION = "d" * 1000  # the largest description: rows large enough to grow the WAL quickly


class Disk(Protocol):
    """The directory the database lives in, and a way to run it out of space and back."""

    name: str
    directory: Path

    def fill(self, server: WebfedServer) -> None: ...

    def free(self, server: WebfedServer) -> None: ...

    def close(self) -> None: ...


class TmpfsDisk:
    """A small tmpfs; a filler file takes all of its free space."""

    name = "tmpfs"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()
        if shutil.which("mount") is None:
            pytest.skip("no mount command here; the file-size-limit case still runs")
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(directory)],
            capture_output=True,
            text=True,
            check=False,
        )
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); see the docstring")
        self.filler = directory / "filler"

    def fill(self, server: WebfedServer) -> None:
        block = b"\0" * 65_536
        with self.filler.open("ab", buffering=0) as filler:
            while True:
                try:
                    filler.write(block)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    break
        assert os.statvfs(self.directory).f_bavail == 0

    def free(self, server: WebfedServer) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        subprocess.run(["umount", "--lazy", str(self.directory)], check=False)


class FileSizeLimitDisk:
    """An ordinary directory; the server process may not write to files while "full"."""

    name = "file-size-limit"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir()

    def fill(self, server: WebfedServer) -> None:
        assert server.process is not None
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    def free(self, server: WebfedServer) -> None:
        assert server.process is not None
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, unlimited)

    def close(self) -> None:
        pass


class PipedLogServer(WebfedServer):
    """A ``webfed serve`` whose output reaches its log file through a pipe, copied by this
    process: the server never writes the log file itself, so its file-size limit cannot cut
    the log (nor make a log call fail inside a request)."""

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webfed", "serve"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._copy_log, args=(self.process,), daemon=True).start()
        self.wait_until_healthy(timeout)

    def _copy_log(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with process.stdout as output, self.log_path.open("ab") as log:
            for line in output:
                log.write(line)
                log.flush()


@dataclass
class Outcome:
    """One ``CreateRole`` call of a writer."""

    name: str
    request_id: str
    seconds: float
    error: tuple[str, int, str, str] | None = None  # code, status, type, message


@dataclass
class Writers:
    """Threads creating roles until stopped; every call's outcome is kept."""

    server: WebfedServer
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for index in range(WRITERS):
            thread = threading.Thread(target=self._run, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, index: int) -> None:
        iam = self.server.client("iam")
        while not self.stop.is_set():
            outcome = create_role(iam, unique(f"fill{index}"))
            with self.lock:
                self.outcomes.append(outcome)
            if outcome.error is not None:
                time.sleep(0.05)  # a client backing off, as the SDKs do on a 5xx

    def count(self, failed: bool) -> int:
        with self.lock:
            return sum((outcome.error is not None) == failed for outcome in self.outcomes)

    def join(self) -> list[Outcome]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=CALL_BOUND + 5)
            assert not thread.is_alive(), "a writer hangs"
        return list(self.outcomes)


def create_role(iam: Any, name: str) -> Outcome:
    started = time.monotonic()
    try:
        answer = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=TRUST, Description=DESCRIPTION
        )
    except botocore.exceptions.ClientError as caught:
        error, metadata = caught.response["Error"], caught.response["ResponseMetadata"]
        return Outcome(
            name,
            metadata["RequestId"],
            time.monotonic() - started,
            (error["Code"], metadata["HTTPStatusCode"], error.get("Type", ""), error["Message"]),
        )
    return Outcome(name, answer["ResponseMetadata"]["RequestId"], time.monotonic() - started)


def wait_for(condition: Callable[[], bool], bound: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > bound:
            raise AssertionError(f"{what}: not within {bound} s")
        time.sleep(0.05)
    return time.monotonic() - started


def integrity(database: Path) -> list[tuple[Any, ...]]:
    """``PRAGMA integrity_check`` on a read-only connection of this (unrestricted) process."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()


def stored_role_names(iam: Any) -> set[str]:
    pages = iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1000})
    return {role["RoleName"] for page in pages for role in page["Roles"]}


@dataclass
class Setup:
    disk: Disk
    server: WebfedServer
    issuer: OidcTestIssuer
    database: Path


@pytest.fixture(params=["tmpfs", "file-size-limit"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    disk: Disk
    if request.param == "tmpfs":
        disk = TmpfsDisk(tmp_path / "disk")
    else:
        disk = FileSizeLimitDisk(tmp_path / "disk")
    database = disk.directory / "webfed.db"
    server = PipedLogServer(
        tmp_path / "data", f"sqlite+aiosqlite:///{database}", dict(HTTP_ISSUERS)
    )
    issuer = OidcTestIssuer(client_id=CLIENT_ID).start()
    try:
        server.start()
        yield Setup(disk, server, issuer, database)
    finally:
        if server.process is not None and server.process.poll() is None:
            disk.free(server)  # let the server flush and stop normally
        server.stop()
        issuer.stop()
        disk.close()


def federated_role(setup: Setup) -> str:
    iam = setup.server.client("iam")
    provider = iam.create_open_id_connect_provider(
        Url=setup.issuer.url, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    prefix = setup.issuer.url.removeprefix("http://")
    trust = statement(
        {"Federated": provider},
        "sts:AssumeRoleWithWebIdentity",
        {"StringEquals": {f"{prefix}:aud": CLIENT_ID}},
    )
    name = unique("reader")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy_document(trust))
    return name


def check_reads(setup: Setup, seeded: list[str], federated: str) -> None:
    """What must keep working on a full disk."""
    server = setup.server
    assert httpx.get(f"{server.url}/livez", timeout=5).status_code == 200
    assert httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200  # reads answer
    iam = server.client("iam")
    for name in seeded:
        assert iam.get_role(RoleName=name)["Role"]["Description"] == DESCRIPTION
    assert set(seeded) <= stored_role_names(iam)
    role_arn = iam.get_role(RoleName=federated)["Role"]["Arn"]
    credentials = server.client("sts").assume_role_with_web_identity(
        RoleArn=role_arn,
        WebIdentityToken=setup.issuer.mint(setup.issuer.claims(subject="reader")),
        RoleSessionName="reader",
    )["Credentials"]
    caller = server.client(
        "sts",
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert caller["Arn"].endswith(f":assumed-role/{federated}/reader")


def guest_identity(setup: Setup) -> tuple[str, str]:
    """An identity pool open to guests and one guest identity in it."""
    cognito = setup.server.client("cognito-identity")
    pool = cognito.create_identity_pool(
        IdentityPoolName="disk", AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]
    return pool, cognito.get_id(IdentityPoolId=pool)["IdentityId"]


def check_identity_pool_while_full(setup: Setup, pool: str, identity: str) -> None:
    """Reading an identity works; creating one (an unsigned JSON call, a write on SQLite's
    writer thread) is refused with a server error of the JSON protocol."""
    cognito = setup.server.client("cognito-identity")
    assert cognito.describe_identity(IdentityId=identity)["IdentityId"] == identity
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cognito.get_id(IdentityPoolId=pool)
    error, metadata = caught.value.response["Error"], caught.value.response["ResponseMetadata"]
    assert (error["Code"], metadata["HTTPStatusCode"]) in JSON_SERVER_ERRORS, error
    assert "sqlite" not in error["Message"] and "full" not in error["Message"]


def check_refusal(outcome: Outcome) -> None:
    assert outcome.error is not None
    code, status, kind, message = outcome.error
    assert (code, status) in SERVER_ERRORS, outcome
    assert kind == "Receiver", outcome
    assert outcome.request_id
    for leak in ("Traceback", "sqlite", "disk", "full", "INSERT", "File "):
        assert leak not in message, outcome
    assert outcome.seconds < CALL_BOUND, outcome


def audited_request_ids(database: Path) -> set[str]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return {row[0] for row in connection.execute("SELECT request_id FROM audit_events")}
    finally:
        connection.close()


def test_a_full_disk_refuses_writes_cleanly_and_recovers_without_a_restart(setup: Setup) -> None:
    server = setup.server
    iam = server.client("iam")
    seeded = [unique("kept") for _ in range(10)]
    for name in seeded:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Description=DESCRIPTION)
    federated = federated_role(setup)
    pool, identity = guest_identity(setup)

    writers = Writers(server)
    writers.start()
    try:
        wait_for(lambda: writers.count(failed=False) >= 10, FAULT_BOUND, "writes before")
        setup.disk.fill(server)
        took = wait_for(lambda: writers.count(failed=True) >= 10, FAULT_BOUND, "refused writes")
        print(f"{setup.disk.name}: ten writes refused {took:.2f} s after it filled")
        check_reads(setup, seeded, federated)
        check_identity_pool_while_full(setup, pool, identity)
        assert integrity(setup.database) == [("ok",)]
        assert create_role(iam, unique("full")).error is not None  # still full: still refused
    finally:
        outcomes = writers.join()
    refused = [outcome for outcome in outcomes if outcome.error is not None]
    for outcome in refused:
        check_refusal(outcome)
    assert server.process is not None and server.process.poll() is None

    setup.disk.free(server)
    after: list[Outcome] = []

    def writes_again() -> bool:
        after.append(create_role(iam, unique("after")))
        return after[-1].error is None

    took = wait_for(writes_again, RECOVERY_BOUND, "writes after space was freed")
    print(f"{setup.disk.name}: writes succeed again {took:.2f} s after space was freed")
    created = {outcome.name for outcome in outcomes + after if outcome.error is None}
    failed = {outcome.name for outcome in outcomes + after if outcome.error is not None}
    stored = stored_role_names(iam)
    assert created | set(seeded) <= stored
    assert not failed & stored, "a refused CreateRole left its role behind"
    check_reads(setup, seeded, federated)
    assert server.client("cognito-identity").get_id(IdentityPoolId=pool)["IdentityId"]

    server.stop()  # the audit sink flushes what it still holds
    assert integrity(setup.database) == [("ok",)]
    calls = {outcome.request_id for outcome in outcomes + after}
    assert calls <= audited_request_ids(setup.database)
