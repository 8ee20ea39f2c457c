"""The demo's children (moto, ``webfed serve``, the two gateways): started in order, each up
before the next needs it, watched, and stopped in reverse order on SIGINT or SIGTERM."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx

from webfed.demo.errors import DemoError
from webfed.demo.game import BUCKET, TABLE, GameFile
from webfed.demo.ports import HOST, Ports
from webfed.demo.provider import Provider

__all__ = [
    "Child",
    "DemoSignals",
    "Interrupted",
    "Processes",
    "child_env",
    "exited",
    "start_services",
]

# The variables the children may inherit: everything else named WEBFED_* would point the demo
# at another database, data directory, account or port than the ones it set up.
_PASSED_THROUGH = (
    "WEBFED_IDENTITY_POOL_CREDENTIALS_SECONDS",  # short-lived credentials: watch SDKs refresh
    "WEBFED_LOG_LEVEL",
    "WEBFED_LOG_FORMAT",
)
_STOP_TIMEOUT = 10.0
_START_TIMEOUT = 60.0


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived.

    A ``BaseException``, as ``KeyboardInterrupt`` is: raised by the signal handler wherever the
    demo happens to be, it must not be caught by a library's ``except Exception`` (botocore
    turns one into a retried connection error while the demo creates the bucket and table).
    """


class DemoSignals:
    """What SIGINT and SIGTERM do through the demo's life, from one handler installed once.

    While the demo starts and serves, they raise :class:`Interrupted` (uvicorn re-raises them
    after its own shutdown). Once :meth:`stopping`, another one kills the children still
    running at once, rather than raising in the middle of stopping them. After the ``with``
    block the demo has stopped and its process is on its way out: they are ignored from then
    on. The old handlers are deliberately not put back: with Python's default restored, a
    Ctrl-C a few milliseconds after "stopped" would end the demo with ``KeyboardInterrupt``.
    """

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.phase = "running"

    def __enter__(self) -> DemoSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.phase = "stopped"
        # SIG_IGN, not a Python handler: the interpreter puts its default back for those as it
        # finalizes, and a Ctrl-C then would end the demo "killed by SIGINT" after all. Held
        # back while it changes: one arriving between Python's check for pending signals and the
        # change would be reported as "ignored due to race condition", with a traceback.
        signals = {signal.SIGINT, signal.SIGTERM}
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            for sig in signals:
                signal.signal(sig, signal.SIG_IGN)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def stopping(self) -> None:
        self.phase = "stopping"

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.phase == "running":
            self.phase = "stopping"  # the demo stops now: a second signal hurries it
            raise Interrupted(signal.Signals(signum).name)
        if self.phase == "stopping":
            self.processes.kill()


def _unblock_signals() -> None:
    """In the child, before exec: the signals the demo held back while starting it are its
    own again (a blocked mask is inherited across exec)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def _child_setup() -> None:
    """In the child, before exec, on Linux: its signals unblocked, and SIGTERM when the demo
    dies, however it dies."""
    _unblock_signals()
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


class Processes:
    """The demo's children: started in order, stopped in reverse order."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        linux = sys.platform.startswith("linux")
        # Ctrl-C between the start and the append would leave a child no one stops: held back
        # until the child is in the list (the signal is delivered right after).
        blocked = {signal.SIGINT, signal.SIGTERM}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            process = subprocess.Popen(  # noqa: S603  (argv: this Python, fixed arguments)
                argv,
                env={**self.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a terminal's Ctrl-C reaches the demo alone, which stops the
                # children in order.
                start_new_session=True,
                preexec_fn=_child_setup if linux else _unblock_signals,  # noqa: PLW1509
            )
        except BaseException:
            log.close()
            raise
        else:
            child = Child(name, process, log_path, log)
            self.children.append(child)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return child

    def wait_healthy(self, child: Child, url: str, timeout: float = _START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise DemoError(
                    f"{child.name} exited with code {child.process.returncode}; "
                    f"the end of {child.log_path}:\n{child.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise DemoError(
            f"{child.name} did not answer {url} within {timeout:.0f} s; see {child.log_path}"
        )

    def first_exited(self) -> Child | None:
        return next((child for child in self.children if child.process.poll() is not None), None)

    def kill(self) -> None:
        """SIGKILL to every child still running (their exits are collected by :meth:`stop`)."""
        for child in self.children:
            if child.process.poll() is None:
                child.process.kill()

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + _STOP_TIMEOUT
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child._log.close()
        self.children.clear()


def child_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WEBFED_", "AWS_")) or key in _PASSED_THROUGH
    }
    # Never reach out to a real AWS account, whatever the machine's configuration says.
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


def exited(processes: Processes) -> str | None:
    child = processes.first_exited()
    if child is None:
        return None
    return f"{child.name} exited with code {child.process.returncode} (see {child.log_path})"


def _issuer_networks(provider: Provider | None) -> dict[str, str]:
    """Where webfed may fetch the provider's keys from, besides public addresses.

    webfed refuses loopback and private addresses by default (its guard against requests into
    its own network). The development provider is on 127.0.0.1: exactly that is allowed. A
    provider of ``--oidc-issuer`` on loopback gets loopback; one on a private network needs
    ``WEBFED_ISSUER_ALLOWED_NETWORKS`` in the demo's environment, passed on as it is.
    """
    if provider is None:
        return {"WEBFED_ISSUER_ALLOWED_NETWORKS": f"{HOST}/32"}
    given = os.environ.get("WEBFED_ISSUER_ALLOWED_NETWORKS", "")
    networks = [entry.strip() for entry in given.split(",") if entry.strip()]
    if provider.on_loopback:
        networks += ["127.0.0.0/8", "::1/128"]
    return {"WEBFED_ISSUER_ALLOWED_NETWORKS": ",".join(networks)} if networks else {}


def _serve_argv(ports: Ports, data_dir: Path, provider: Provider | None) -> list[str]:
    """``webfed serve``: with the development provider, unless another one is configured."""
    serve = [sys.executable, "-m", "webfed", "serve"]
    if provider is None:
        serve += ["--dev-idp", "--allow-http-issuers"]
    elif provider.issuer.startswith("http://"):
        serve += ["--allow-http-issuers"]
    return [*serve, "--host", HOST, "--port", str(ports.webfed), "--data-dir", str(data_dir)]


def start_services(
    processes: Processes,
    ports: Ports,
    data_dir: Path,
    game: GameFile,
    provider: Provider | None = None,
) -> None:
    """moto, webfed, the bucket and table, the two gateways: each up before the next needs it."""
    python = sys.executable
    # The gateways answer CORS for the page; an upstream must add no CORS headers of its own
    # (docs/gateway.md), and moto adds them to every response unless told not to.
    moto = processes.start(
        "moto",
        [python, "-m", "moto.server", "-H", HOST, "-p", str(ports.moto)],
        {"MOTO_DISABLE_GLOBAL_CORS": "true"},
    )
    serve = _serve_argv(ports, data_dir, provider)
    allow = _issuer_networks(provider)
    webfed = processes.start("webfed", [*serve, "--config", str(game.path)], allow)
    processes.wait_healthy(moto, f"{ports.url('moto')}/moto-api/data.json")
    processes.wait_healthy(webfed, f"{ports.url('webfed')}/healthz")
    upstream_key_id = "AKIA" + secrets.token_hex(8).upper()
    upstream_secret = secrets.token_urlsafe(30)
    _create_upstream_resources(ports.url("moto"), game.region, upstream_key_id, upstream_secret)
    gateway_env = {
        "WEBFED_UPSTREAM_ACCESS_KEY_ID": upstream_key_id,
        "WEBFED_UPSTREAM_SECRET_ACCESS_KEY": upstream_secret,
        "WEBFED_UPSTREAM_REGION": game.region,
    }
    started = []
    for service in ("s3", "dynamodb"):
        argv = [python, "-m", "webfed", "gateway", service, "--data-dir", str(data_dir)]
        argv += ["--listen", f"{HOST}:{getattr(ports, service)}", "--upstream", ports.url("moto")]
        argv += ["--cors-origin", ports.url("game")]
        started.append((service, processes.start(f"gateway-{service}", argv, gateway_env)))
    for service, gateway in started:
        processes.wait_healthy(gateway, f"{ports.url(service)}/__webfed/healthz")


def _create_upstream_resources(moto_url: str, region: str, key_id: str, secret: str) -> None:
    """The bucket and the table, created in moto directly (the upstream's own credentials)."""
    import botocore.session

    session = botocore.session.get_session()
    common: dict[str, Any] = {
        "region_name": region,
        "endpoint_url": moto_url,
        "aws_access_key_id": key_id,
        "aws_secret_access_key": secret,
    }
    s3 = session.create_client("s3", **common)
    s3.create_bucket(Bucket=BUCKET)
    dynamodb = session.create_client("dynamodb", **common)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "identityId", "KeyType": "HASH"},
            {"AttributeName": "playedAt", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "identityId", "AttributeType": "S"},
            {"AttributeName": "playedAt", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
