"""``webfed keys``: rotate makes a new current key; list only reads."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from webfed.cli import main


def test_list_never_creates_anything(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    result = CliRunner().invoke(main, ["keys", "list", "--data-dir", str(missing)])
    assert result.exit_code == 2
    assert "no webfed database" in result.output
    assert not missing.exists()


def test_rotate_then_list(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["keys", "rotate", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    new_id = first.output.strip().rsplit(" ", 1)[1]
    assert (tmp_path / "master.key").exists()
    listed = runner.invoke(main, ["keys", "list", "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert new_id in listed.output
    assert "(current)" in listed.output
    second = runner.invoke(main, ["keys", "rotate", "--data-dir", str(tmp_path)])
    assert second.exit_code == 0
    relisted = runner.invoke(main, ["keys", "list", "--data-dir", str(tmp_path)])
    assert relisted.output.count("(current)") == 1
    assert new_id in relisted.output  # the retired key is still listed while it unseals
