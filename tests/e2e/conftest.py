"""``webfed demo`` as a real process on free ports, shared by the end-to-end tests.

The demo is started exactly as a person starts it (``python -m webfed demo`` with port flags)
and stopped with SIGTERM, as a service manager or Ctrl-C would; stopping it must leave no
process listening on any of its ports.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
GAME_DIR = REPO / "examples" / "game"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Identity-pool credentials live 60 s (the settings' minimum): the SDKs then consider them
# about to expire on every call, and refresh them, which the tests observe.
CREDENTIALS_SECONDS = "60"
READY = "webfed demo ready: "


@dataclass
class RunningDemo:
    process: subprocess.Popen[str]
    url: str
    ports: dict[str, int]
    data_dir: Path

    @property
    def config_url(self) -> str:
        return f"{self.url}config.json"

    @property
    def admin_credentials(self) -> Path:
        return self.data_dir / "admin-credentials"

    @property
    def error_path(self) -> Path:
        """The demo's own standard error (its children log under ``data_dir/logs``)."""
        return self.data_dir.parent / f"{self.data_dir.name}-demo.err"

    def logs(self) -> str:
        parts = []
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            text = log.read_text(encoding="utf-8", errors="replace")
            parts.append(f"== {log.name}\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(parts)


def children_of(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` and their command lines (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # exited meanwhile
        # "PID (COMM) STATE PPID ...": COMM may contain spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = command.strip()
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PortTaken(RuntimeError):
    """Another process took one of the free ports between choosing it and the demo's start."""


def free_demo_ports() -> dict[str, int]:
    return {name: free_port() for name in ("webfed", "s3", "dynamodb", "game", "moto")}


def demo_command(
    data_dir: Path, ports: dict[str, int], extra_args: Sequence[str] = ()
) -> tuple[list[str], dict[str, str]]:
    """``python -m webfed demo`` on ``ports``, as a person runs it, and its environment: this
    one without any ``WEBFED_*`` or ``AWS_*`` variable, and 60-second credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    env["WEBFED_IDENTITY_POOL_CREDENTIALS_SECONDS"] = CREDENTIALS_SECONDS
    command = [sys.executable, "-m", "webfed", "demo", "--data-dir", str(data_dir)]
    command += ["--port", str(ports["webfed"]), "--s3-port", str(ports["s3"])]
    command += ["--dynamodb-port", str(ports["dynamodb"]), "--game-port", str(ports["game"])]
    command += ["--moto-port", str(ports["moto"]), *extra_args]
    return command, env


def _start_once(data_dir: Path, timeout: float, extra_args: Sequence[str] = ()) -> RunningDemo:
    ports = free_demo_ports()
    command, env = demo_command(data_dir, ports, extra_args)
    error_path = data_dir.parent / f"{data_dir.name}-demo.err"
    with error_path.open("w") as stderr:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            line = process.stdout.readline().strip() if ready else ""
            if line.startswith(READY):
                return RunningDemo(process, line.removeprefix(READY), ports, data_dir)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(30)
    except BaseException:
        process.kill()
        process.wait()
        process.stdout.close()
        raise
    process.stdout.close()
    errors = error_path.read_text()
    if "is not free" in errors:
        raise PortTaken(errors)
    raise RuntimeError(f"webfed demo did not start ({process.returncode}):\n{errors}")


def start_demo(
    data_dir: Path, timeout: float = 90.0, extra_args: Sequence[str] = ()
) -> RunningDemo:
    """``webfed demo`` on free ports, once "ready"; again on other ports if one was taken.

    ``extra_args`` are added to the command line (e.g. ``--oidc-issuer URL``).
    """
    try:
        return _start_once(data_dir, timeout, extra_args)
    except PortTaken:
        return _start_once(data_dir, timeout, extra_args)


def stop_demo(demo: RunningDemo) -> int:
    """SIGTERM, as Ctrl-C or a service manager; the exit code."""
    demo.process.send_signal(signal.SIGTERM)
    try:
        return demo.process.wait(timeout=30)
    finally:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()
        if demo.process.stdout is not None:
            demo.process.stdout.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    running = start_demo(tmp_path_factory.mktemp("demo") / "data")
    children: dict[int, str] = {}
    try:
        assert httpx.get(running.config_url, timeout=5).status_code == 200
        children = children_of(running.process.pid)
        assert len(children) == 4, children  # moto, webfed, two gateways
        yield running
    finally:
        code = stop_demo(running)
        still = [name for name, port in running.ports.items() if _listening(port)]
        assert code == 0, f"webfed demo exited with {code}:\n{running.logs()}"
        assert not still, f"still listening after the demo stopped: {still}"
        assert not [pid for pid in children if alive(pid)], "children outlived the demo"
