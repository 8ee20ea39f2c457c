"""``webfed keys rotate --issuer`` and ``webfed keys list --issuer``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from webfed.cli import main


def _kid(output: str) -> str:
    return output.strip().rsplit(" ", 1)[1]


def test_rotate_issuer_then_list(tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = ["--data-dir", str(tmp_path)]
    first = runner.invoke(main, ["keys", "rotate", "--issuer", *data_dir])
    assert first.exit_code == 0, first.output
    assert "new current issuer signing key: " in first.output
    second = runner.invoke(main, ["keys", "rotate", "--issuer", *data_dir])
    assert second.exit_code == 0, second.output
    listed = runner.invoke(main, ["keys", "list", "--issuer", *data_dir])
    assert listed.exit_code == 0, listed.output
    # The key made on first use, the first rotation's key and the second's: all still published.
    assert _kid(first.output) in listed.output and _kid(second.output) in listed.output
    assert listed.output.count("(current)") == 1
    sealing = runner.invoke(main, ["keys", "list", *data_dir])
    assert _kid(first.output) not in sealing.output
    assert _kid(second.output) not in sealing.output
