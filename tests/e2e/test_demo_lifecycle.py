"""``webfed demo`` when one of its processes dies: it stops the others and exits with an error
naming the one that died. (The shared demo of the other tests checks the clean stop.)"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.e2e.conftest import alive, children_of, start_demo


def test_a_child_that_dies_takes_the_demo_down_cleanly(tmp_path: Path) -> None:
    demo = start_demo(tmp_path / "data")
    try:
        children = children_of(demo.process.pid)
        moto = next(pid for pid, command in children.items() if "moto.server" in command)
        os.kill(moto, signal.SIGKILL)
        code = demo.process.wait(timeout=40)
    finally:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()
        if demo.process.stdout is not None:
            demo.process.stdout.close()
    stderr = (tmp_path / "data-demo.err").read_text()
    assert code == 1, stderr
    assert "moto exited with code -9" in stderr
    assert "webfed demo: stopped" in stderr
    assert not [pid for pid in children if alive(pid)], children
