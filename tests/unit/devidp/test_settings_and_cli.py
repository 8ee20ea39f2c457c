"""The settings of the development provider and the ``serve`` flags' listener check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from webfed.cli import main
from webfed.logs import get_logger
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


def _serve(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], env: dict[str, str]
) -> tuple[int, str, list[dict[str, object]]]:
    """``webfed serve`` up to the point where it would listen: uvicorn is replaced by a
    recorder. The exit code, the output (log included) and uvicorn's recorded calls."""
    calls: list[dict[str, object]] = []

    def run(app: str, **options: object) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr("uvicorn.run", run)
    # The module's logger caches the stream it first wrote to: a fresh one writes to this
    # run's captured output.
    monkeypatch.setattr("webfed.cli._log", get_logger("webfed.cli"))
    # serve hands its settings to the workers in os.environ: each variable it may write is set
    # and deleted here, so that monkeypatch restores it after the test (absent, or as it was).
    for field in Settings.model_fields:
        monkeypatch.setenv(f"WEBFED_{field.upper()}", "")
        monkeypatch.delenv(f"WEBFED_{field.upper()}")
    base = {
        "WEBFED_ADMIN_ACCESS_KEY_ID": "AKIAWEBFEDTESTADMIN1",
        "WEBFED_ADMIN_SECRET_ACCESS_KEY": "webfed-test-admin-secret-key-0000000000",
    }
    result = CliRunner().invoke(main, ["serve", *arguments], env={**base, **env})
    return result.exit_code, result.output, calls


def _config(tmp_path: Path, settings: str) -> Path:
    path = tmp_path / "webfed.yaml"
    path.write_text(f"version: 1\nsettings:\n{settings}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("arguments", "env", "file_settings"),
    [
        (["--dev-idp"], {"WEBFED_HOST": "0.0.0.0"}, None),
        ([], {"WEBFED_HOST": "::", "WEBFED_DEV_IDP": "true"}, None),
        ([], {}, "  host: 0.0.0.0\n  dev_idp: true\n"),
        (["--dev-idp"], {}, "  host: '::'\n"),
        (["--host", "[::]"], {"WEBFED_DEV_IDP": "1"}, None),
        (["--host", "::ffff:0.0.0.0"], {"WEBFED_DEV_IDP": "1"}, None),
    ],
    ids=["env-host", "env-both", "file-both", "file-host", "bracketed-any", "mapped-any"],
)
def test_every_way_to_set_the_host_is_checked(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    arguments: list[str],
    env: dict[str, str],
    file_settings: str | None,
) -> None:
    """The check reads the resolved settings: flag, ``WEBFED_*`` variable or ``--config``."""
    data = tmp_path / "data"
    if file_settings is not None:
        arguments = [*arguments, "--config", str(_config(tmp_path, file_settings))]
    code, output, calls = _serve(monkeypatch, [*arguments, "--data-dir", str(data)], env)
    assert code == 2, output
    assert "--dev-idp-force" in output and not calls and not data.exists()


@pytest.mark.parametrize(
    ("host", "workers"),
    [("127.0.0.1", "1"), ("127.0.0.2", "2"), ("::1", "1"), ("localhost", "3")],
)
def test_a_loopback_listener_starts_and_says_not_for_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str, workers: str
) -> None:
    arguments = ["--dev-idp", "--host", host, "--workers", workers, "--data-dir", str(tmp_path)]
    code, output, calls = _serve(monkeypatch, arguments, {})
    assert code == 0, output
    assert "development identity provider enabled: NOT for production" in output
    (call,) = calls
    assert call["host"] == host and call["workers"] == int(workers)
    assert os.environ["WEBFED_DEV_IDP"] == "True"  # what every worker rebuilds its app from


@pytest.mark.parametrize("force", [["--dev-idp-force"], []])
def test_forced_onto_a_public_listener(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, force: list[str]
) -> None:
    env = {} if force else {"WEBFED_DEV_IDP_FORCE": "true"}
    arguments = ["--dev-idp", *force, "--host", "0.0.0.0", "--data-dir", str(tmp_path)]
    code, output, calls = _serve(monkeypatch, arguments, env)
    assert code == 0, output
    assert "NOT for production" in output and calls[0]["host"] == "0.0.0.0"


def test_off_by_default_says_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, output, calls = _serve(
        monkeypatch, ["--host", "0.0.0.0", "--data-dir", str(tmp_path)], {}
    )
    assert code == 0, output
    assert "identity provider" not in output and calls
    assert os.environ["WEBFED_DEV_IDP"] == "False"
