"""The settings of the development provider and the ``serve`` flags' listener check."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from webfed.cli import main
from webfed.settings import Settings


def test_defaults_are_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.dev_idp is False and settings.dev_idp_force is False
    assert settings.dev_idp_claims == "{}" and settings.dev_idp_redirect_uris == ""


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WEBFED_DEV_IDP", "true")
    monkeypatch.setenv("WEBFED_DEV_IDP_CLAIMS", '{"team": "blue"}')
    monkeypatch.setenv("WEBFED_DEV_IDP_REDIRECT_URIS", "https://a.example/cb,https://b.example/")
    settings = Settings(data_dir=tmp_path)
    assert settings.dev_idp is True
    assert settings.dev_idp_claims == '{"team": "blue"}'


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dev_idp_claims", '{"iss": "x"}', "may not set iss"),
        ("dev_idp_claims", "[1]", "JSON object"),
        ("dev_idp_redirect_uris", "https://a.example/cb#x", "fragment"),
        ("dev_idp_redirect_uris", "javascript:alert(1)", "http"),
    ],
)
def test_invalid_settings(tmp_path: Path, field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(data_dir=tmp_path, **{field: value})


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_serve_refuses_a_public_listener(tmp_path: Path, host: str) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path), "--host", host, "--dev-idp"], env={}
    )
    assert result.exit_code == 2
    assert "--dev-idp-force" in result.output
    assert not list(tmp_path.iterdir())  # refused before creating anything
