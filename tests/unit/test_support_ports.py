"""The test run's port registry (tests/support/ports.py) hands each port out once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ports


def test_ports_are_handed_out_once_even_after_they_are_closed() -> None:
    handed = [ports.free_port() for _ in range(200)]  # each socket is closed on return
    assert len(set(handed)) == len(handed)
    assert all((ports.registry() / str(port)).exists() for port in handed)


def test_a_port_recorded_by_another_process_is_not_handed_out_here() -> None:
    """What an xdist worker sees: the port another worker took, from the shared directory."""
    other = subprocess.run(
        [sys.executable, "-c", "from tests.support.ports import free_port; print(free_port())"],
        env={**os.environ, ports.DIRECTORY_VARIABLE: str(ports.registry())},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    taken = int(other.stdout)
    assert not ports._claim(taken)
    assert taken not in {ports.free_port() for _ in range(50)}
