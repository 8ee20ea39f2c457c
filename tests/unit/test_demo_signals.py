"""DemoSignals: what SIGINT and SIGTERM do in each phase of the demo's life, in this process."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from webfed.demo.processes import DemoSignals, Interrupted, Processes


class _CountingProcesses(Processes):
    def __init__(self, log_dir: Path) -> None:
        super().__init__(log_dir, {})
        self.kills = 0

    def kill(self) -> None:
        self.kills += 1


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[_CountingProcesses]:
    """The test process's own handlers are put back whatever the test left installed."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield _CountingProcesses(tmp_path)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_each_phase(processes: _CountingProcesses, sig: signal.Signals) -> None:
    with DemoSignals(processes) as signals:
        with pytest.raises(Interrupted, match=sig.name):
            signal.raise_signal(sig)
        # The first signal started the stop: the next ones hurry it instead of raising.
        assert signals.phase == "stopping"
        signal.raise_signal(sig)
        signal.raise_signal(sig)
        assert processes.kills == 2
    assert signals.phase == "stopped"
    signal.raise_signal(sig)  # on the way out: ignored, not KeyboardInterrupt
    assert processes.kills == 2


def test_a_stop_without_a_signal(processes: _CountingProcesses) -> None:
    """A child died: the demo stops on its own, and a signal then only hurries it."""
    with DemoSignals(processes) as signals:
        signals.stopping()
        signal.raise_signal(signal.SIGINT)
        assert processes.kills == 1
    signal.raise_signal(signal.SIGINT)
    assert processes.kills == 1
