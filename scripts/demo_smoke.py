"""The README's first command as a newcomer runs it, checked end to end.

    python3 scripts/demo_smoke.py          # from the repository root; CI runs it (.ci/run)

In a new virtual environment with only the ``demo`` extra (what the README's first command
installs, not the test suite's ``dev`` extra), it starts ``webfed demo`` on free ports, waits
for "ready", plays once as a signed-in player and once as a guest with ``examples/game/play.py``
(which must be refused the other's data), then interrupts the demo as Ctrl-C does (SIGINT):
the demo must exit 0, with nothing left listening. Exit code 0 when all of it held, 1 otherwise.

It guards what the test suite cannot: the suite runs in the ``dev`` environment, so a package
the demo needs but only ``dev`` installs would go unnoticed there.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
READY = "webfed demo ready: "
NAMES = ("port", "s3-port", "dynamodb-port", "game-port", "moto-port")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def step(message: str) -> None:
    print(f"== demo smoke: {message}", flush=True)


def install(work: Path) -> Path:
    """A new virtual environment with the ``demo`` extra; its ``bin`` directory."""
    venv = work / "venv"
    step(f"python3 -m venv {venv} && pip install -q -e '.[demo]'")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = [str(venv / "bin" / "pip"), "install", "-q", "-e", ".[demo]"]
    subprocess.run(pip, cwd=REPO, check=True)  # noqa: S603
    return venv / "bin"


def start(bin_dir: Path, work: Path, ports: list[int]) -> tuple[subprocess.Popen[str], str]:
    """``webfed demo`` on ``ports``, once it printed "ready"; the process and the page's URL."""
    command = [str(bin_dir / "webfed"), "demo", "--data-dir", str(work / "demo-data")]
    for name, port in zip(NAMES, ports, strict=True):
        command += [f"--{name}", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    # Standard output carries one line, "ready"; what the demo says to people goes to a file.
    with (work / "demo.err").open("w") as errors:
        demo = subprocess.Popen(  # noqa: S603
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
    assert demo.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and demo.poll() is None:
        if select.select([demo.stdout], [], [], 0.5)[0]:
            line = demo.stdout.readline()
            if line.startswith(READY):
                return demo, line.removeprefix(READY).strip()
    demo.kill()
    demo.wait()
    said = (work / "demo.err").read_text()
    raise RuntimeError(f"webfed demo did not become ready ({demo.returncode}):\n{said}")


def play(bin_dir: Path, url: str, *args: str) -> dict[str, Any]:
    """``play.py --json`` against the demo; its JSON document (it must exit 0)."""
    command = [str(bin_dir / "python"), "examples/game/play.py", "--json", *args]
    command += ["--config-url", f"{url}config.json"]
    result = subprocess.run(  # noqa: S603
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"play.py {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


def exercise(bin_dir: Path, url: str) -> None:
    """Alice and a guest play; Bob is refused each of Alice's things."""
    alice = play(bin_dir, url, "--user", "alice", "--score", "870")
    guest = play(bin_dir, url, "--guest", "--score", "420")
    bob = play(bin_dir, url, "--user", "bob", "--other", alice["identityId"])
    refusals = {what: o["code"] for what, o in bob["other"].items() if what != "identityId"}
    if len(refusals) != 3 or None in refusals.values():  # play.py also exits 1 then
        raise RuntimeError(f"bob's calls on alice's data: {refusals}")
    step(f"played: alice, a guest ({guest['identityId']}); bob refused alice's {refusals}")


def interrupt(demo: subprocess.Popen[str], ports: list[int], work: Path) -> None:
    """SIGINT, as Ctrl-C: exit 0 and nothing left listening."""
    demo.send_signal(signal.SIGINT)
    code = demo.wait(timeout=30)
    if code != 0:
        said = (work / "demo.err").read_text()
        raise RuntimeError(f"webfed demo exited {code} on SIGINT:\n{said}")
    still = [port for port in ports if listening(port)]
    if still:
        raise RuntimeError(f"still listening after the demo stopped: {still}")
    step("stopped by SIGINT with exit 0, nothing left listening")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="webfed-demo-smoke-"))
    try:
        return smoke(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the environment alone is ~240 MB


def smoke(work: Path) -> int:
    began = time.monotonic()
    try:
        bin_dir = install(work)
        step(f"installed in {time.monotonic() - began:.0f} s")
        ports = free_ports(len(NAMES))
        demo, url = start(bin_dir, work, ports)
    except (RuntimeError, subprocess.SubprocessError, OSError) as error:
        print(f"== demo smoke FAILED: {error}", file=sys.stderr)
        return 1
    try:
        step(f"ready at {url}, {time.monotonic() - began:.0f} s after the start")
        exercise(bin_dir, url)
        interrupt(demo, ports, work)
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, KeyError) as error:
        print(f"== demo smoke FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
