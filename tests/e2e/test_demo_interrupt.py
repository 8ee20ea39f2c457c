"""Ctrl-C in the terminal that runs ``webfed demo`` stops everything, cleanly and at once.

A terminal does not signal one process: typing the interrupt character makes the terminal send
SIGINT to its whole foreground process group. So the demo runs here as a person runs it: the
session leader of a pseudo-terminal, whose foreground group it is, and the test types the
terminal's interrupt character into that terminal. (The shared fixture stops the demo with
SIGTERM, as a service manager would.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import subprocess
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import (
    READY,
    REPO,
    _listening,
    alive,
    children_of,
    demo_command,
    free_demo_ports,
)

START_SECONDS = 90.0
# The demo gives its children ten seconds to stop before it kills them: stopping faster than
# that means none of them had to be killed.
STOP_SECONDS = 10.0


@dataclass
class TerminalDemo:
    """``webfed demo`` in its own pseudo-terminal, and everything it wrote there."""

    process: subprocess.Popen[bytes]
    terminal: int  # the pseudo-terminal's controlling side
    ports: dict[str, int]
    output: bytearray

    def read(self, timeout: float) -> bool:
        """Appends what the demo wrote within ``timeout``; False once its terminal closed."""
        ready, _, _ = select.select([self.terminal], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.terminal, 65536)
        except OSError:  # EIO: no process holds the terminal any more
            return False
        self.output += data
        return bool(data)

    def drain(self, seconds: float = 5.0) -> None:
        """Reads until the terminal closes, for at most ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.read(0.1):
            pass

    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def type_interrupt(self) -> None:
        """What Ctrl-C does: the terminal's interrupt character (VINTR), typed."""
        interrupt = termios.tcgetattr(self.terminal)[6][termios.VINTR]
        os.write(self.terminal, interrupt)


def _take_terminal() -> None:
    """In the child, a new session's leader: its standard input becomes its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _start_in_terminal(data_dir: Path, ports: dict[str, int] | None = None) -> TerminalDemo:
    ports = ports or free_demo_ports()
    command, env = demo_command(data_dir, ports)
    terminal, device = os.openpty()
    try:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdin=device,
            stdout=device,
            stderr=device,
            start_new_session=True,
            preexec_fn=_take_terminal,  # noqa: PLW1509  (one ioctl between fork and exec)
        )
    finally:
        os.close(device)
    return TerminalDemo(process, terminal, ports, bytearray())


def _wait_ready(demo: TerminalDemo) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and demo.process.poll() is None:
        if READY in demo.text():
            return True
        demo.read(0.2)
    return False


def _finish(demo: TerminalDemo) -> None:
    if demo.process.poll() is None:
        demo.process.kill()
        demo.process.wait()
    os.close(demo.terminal)


@pytest.fixture
def demo_in_terminal(tmp_path: Path) -> Iterator[TerminalDemo]:
    """The demo, "ready", in a terminal; started again on other ports if one was taken."""
    for attempt in range(2):
        demo = _start_in_terminal(tmp_path / f"data-{attempt}")
        try:
            if _wait_ready(demo):
                break
            if demo.process.poll() is None:
                demo.process.kill()
            demo.drain()  # the reason it stopped, to the last line
        except BaseException:
            _finish(demo)
            raise
        _finish(demo)
        if "is not free" not in demo.text():
            pytest.fail(f"webfed demo did not start ({demo.process.returncode}):\n{demo.text()}")
    else:
        pytest.fail(f"webfed demo found a port taken twice:\n{demo.text()}")
    try:
        yield demo
    finally:
        _finish(demo)


def test_ctrl_c_in_its_terminal_stops_the_demo_and_all_its_processes(
    demo_in_terminal: TerminalDemo,
) -> None:
    demo = demo_in_terminal
    # The setting Ctrl-C relies on: the demo is the terminal's foreground process group, and
    # its four children are not in it (the demo stops them itself, in order).
    assert os.tcgetpgrp(demo.terminal) == demo.process.pid
    children = children_of(demo.process.pid)
    assert len(children) == 4, children  # moto, webfed, two gateways
    assert all(os.getpgid(pid) != demo.process.pid for pid in children), children

    typed = time.monotonic()
    demo.type_interrupt()
    while demo.process.poll() is None and time.monotonic() - typed < 3 * STOP_SECONDS:
        demo.read(0.05)
    took = time.monotonic() - typed
    demo.drain()  # what it wrote while exiting

    output = demo.text()
    assert demo.process.returncode == 0, output
    assert took < STOP_SECONDS, f"took {took:.1f} s to stop:\n{output}"
    stopping = output.index("webfed demo: stopping")
    assert output.index("webfed demo: stopped") > stopping, output
    assert "Traceback" not in output, output
    assert [name for name, port in demo.ports.items() if _listening(port)] == []
    assert [command for pid, command in children.items() if alive(pid)] == []


def _stopped_within(demo: TerminalDemo, seconds: float) -> float:
    """Reads the terminal until the demo exits; how long that took."""
    began = time.monotonic()
    while demo.process.poll() is None and time.monotonic() - began < seconds:
        demo.read(0.05)
    took = time.monotonic() - began
    demo.drain()
    return took


def test_more_ctrl_c_while_stopping_kill_what_is_left_and_are_ignored_once_stopped(
    demo_in_terminal: TerminalDemo,
) -> None:
    demo = demo_in_terminal
    children = children_of(demo.process.pid)
    demo.type_interrupt()
    while "webfed demo: stopping" not in demo.text() and demo.process.poll() is None:
        demo.read(0.02)
    # Impatient: again and again, while the children are being stopped and after "stopped"
    # while the demo exits (where Python's default handler once ended it by SIGINT).
    # A terminal discards output it has not shown yet at each Ctrl-C; NOFLSH keeps it, so that
    # everything the demo wrote reaches this test.
    attributes = termios.tcgetattr(demo.terminal)
    attributes[3] |= termios.NOFLSH
    termios.tcsetattr(demo.terminal, termios.TCSANOW, attributes)
    began = time.monotonic()
    while demo.process.poll() is None and time.monotonic() - began < 3 * STOP_SECONDS:
        with contextlib.suppress(OSError):  # the terminal may close under the last one
            demo.type_interrupt()
        demo.read(0.01)
    took = time.monotonic() - began
    demo.drain()
    output = demo.text()
    assert demo.process.returncode == 0, output
    assert took < STOP_SECONDS, f"took {took:.1f} s to stop:\n{output}"
    assert "webfed demo: stopped" in output, output
    for noise in ("Traceback", "Aborted", "KeyboardInterrupt", "Exception ignored"):
        assert noise not in output, output
    assert [command for pid, command in children.items() if alive(pid)] == []


def test_the_demo_starts_again_at_once_on_the_same_ports(
    demo_in_terminal: TerminalDemo, tmp_path: Path
) -> None:
    demo = demo_in_terminal
    # Connections still open when the servers stop are closed by them: the servers' ports are
    # left in TIME_WAIT, which must not make the next start think them taken.
    clients = [httpx.Client(timeout=5) for _ in demo.ports]
    try:
        for client, port in zip(clients, demo.ports.values(), strict=True):
            client.get(f"http://127.0.0.1:{port}/")  # kept alive, whatever the answer
        demo.type_interrupt()
        _stopped_within(demo, 3 * STOP_SECONDS)
    finally:
        for client in clients:
            client.close()
    assert demo.process.returncode == 0, demo.text()
    again = _start_in_terminal(tmp_path / "again", demo.ports)
    try:
        assert _wait_ready(again), again.text()
        again.type_interrupt()
        _stopped_within(again, 3 * STOP_SECONDS)
        assert again.process.returncode == 0, again.text()
    finally:
        _finish(again)
