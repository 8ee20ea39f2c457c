"""The request limits' bounds: a value outside them is refused when the settings are read."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from webfed.settings import Settings


@pytest.mark.parametrize("value", [65_536, 1_048_576, 67_108_864])
def test_body_limits_within_bounds(tmp_path: Path, value: int) -> None:
    assert Settings(data_dir=tmp_path, max_request_body_bytes=value).max_request_body_bytes == value


@pytest.mark.parametrize(
    ("value", "message"),
    [(65_535, "greater than or equal to 65536"), (67_108_865, "less than or equal to 67108864")],
    ids=["too-small", "too-large: a body is held in memory whole"],
)
def test_body_limits_out_of_bounds(tmp_path: Path, value: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(data_dir=tmp_path, max_request_body_bytes=value)


def test_out_of_bounds_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBFED_MAX_REQUEST_BODY_BYTES", str(10 * 1024**3))
    with pytest.raises(ValidationError, match="max_request_body_bytes"):
        Settings(data_dir=tmp_path)
