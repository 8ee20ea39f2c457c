"""Ports for the test run's listeners, each handed out once per run, across xdist workers.

Asking the OS for port 0 and closing the socket leaves a window before the server binds the
port: another worker (or this one, for a listener stopped a moment ago) may be handed the same
port meanwhile, and one of the two then fails to start, or a new OpenID provider gets the URL
of an old one. Every port handed out here is recorded as a file created with ``O_EXCL`` in a
directory shared by the run's workers, so no two listeners of a run get the same port from it.

The directory is made by the first process of the run that needs it (``pytest_configure`` of
the controlling process, before xdist starts its workers, which inherit the variable; or a
benchmark using the test OpenID provider) and removed when that process ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

__all__ = ["DIRECTORY_VARIABLE", "bound_socket", "free_port", "registry", "remove_registry"]

DIRECTORY_VARIABLE = "WEBFED_TEST_PORTS_DIRECTORY"


_made_here: list[Path] = []  # the directory, when this process made it


def registry() -> Path:
    """The run's directory of handed-out ports, made (and named in the environment) if none."""
    named = os.environ.get(DIRECTORY_VARIABLE)
    if named:
        return Path(named)
    directory = Path(tempfile.mkdtemp(prefix="webfed-test-ports-"))
    if not _made_here:
        atexit.register(remove_registry)  # for users outside pytest, such as bench/load.py
    _made_here.append(directory)
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    return directory


def remove_registry() -> None:
    """Remove the directory if this process made it (not one an outer run or a user named)."""
    while _made_here:
        directory = _made_here.pop()
        shutil.rmtree(directory, ignore_errors=True)
        if os.environ.get(DIRECTORY_VARIABLE) == str(directory):
            del os.environ[DIRECTORY_VARIABLE]


def _claim(port: int) -> bool:
    try:
        os.close(os.open(registry() / str(port), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def bound_socket(*, reuse_address: bool = False) -> socket.socket:
    """A TCP socket bound (not listening) on 127.0.0.1, on a port new to this run."""
    rejected: list[socket.socket] = []
    try:
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if reuse_address:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            if _claim(sock.getsockname()[1]):
                return sock
            rejected.append(sock)  # held while looking, so the OS offers another port
    finally:
        for held in rejected:
            held.close()


def free_port() -> int:
    """A port new to this run, free now, for a server started by the test to bind."""
    with bound_socket() as sock:
        return int(sock.getsockname()[1])
