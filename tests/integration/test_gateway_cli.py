"""``webfed gateway s3|dynamodb`` refuses to start on bad configuration, with a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from webfed.cli_gateway import gateway

UPSTREAM = {
    "WEBFED_UPSTREAM_ACCESS_KEY_ID": "AKIDUP",
    "WEBFED_UPSTREAM_SECRET_ACCESS_KEY": "upstream-secret",
}


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["s3", "--upstream", "http://127.0.0.1:9"], {}, "WEBFED_UPSTREAM_ACCESS_KEY_ID"),
        (["dynamodb", "--upstream", "http://127.0.0.1:9"], UPSTREAM, "no master key"),
        (["s3", "--upstream", "ftp://x"], "master", "http(s)://host"),
        (["s3", "--upstream", "http://x", "--listen", "nohostport"], UPSTREAM, "HOST:PORT"),
        (["s3"], UPSTREAM, "--upstream"),
        (["s3", "--upstream", "http://x"], "master+bogus-audit", "audit must be one of"),
    ],
    ids=[
        "no-upstream-credentials",
        "no-master-key",
        "bad-upstream-url",
        "bad-listen",
        "no-upstream",
        "bad-audit-mode",
    ],
)
def test_bad_configuration_is_a_usage_error(
    tmp_path: Path, args: list[str], env: dict[str, str] | str, message: str
) -> None:
    environment = {"WEBFED_DATA_DIR": str(tmp_path)}
    if isinstance(env, str) and env.startswith("master"):
        (tmp_path / "master.key").write_text("A" * 43 + "=\n")
        (tmp_path / "master.key").chmod(0o600)
        environment.update(UPSTREAM)
        if env.endswith("bogus-audit"):
            environment["WEBFED_GATEWAY_AUDIT"] = "bogus"
    elif isinstance(env, dict):
        environment.update(env)
    result = CliRunner().invoke(gateway, args, env=environment)
    assert result.exit_code == 2, result.output
    assert message in result.output


class _Configured(Exception):
    """Stops the command once logging is configured: nothing else is under test."""


@pytest.mark.parametrize(
    ("flag", "env", "level"),
    [(None, None, "info"), (None, "error", "error"), ("debug", "error", "debug")],
    ids=["default", "environment", "flag-beats-environment"],
)
def test_the_log_level_comes_from_the_flag_then_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: str | None,
    level: str,
) -> None:
    seen: list[str] = []

    def configure(log_format: str, log_level: str) -> None:
        seen.append(log_level)
        raise _Configured

    monkeypatch.setattr("webfed.cli_gateway.configure_logging", configure)
    environment = {"WEBFED_DATA_DIR": str(tmp_path), **UPSTREAM}
    if env is not None:
        environment["WEBFED_LOG_LEVEL"] = env
    args = ["s3", "--upstream", "http://127.0.0.1:9"]
    if flag is not None:
        args += ["--log-level", flag]
    result = CliRunner().invoke(gateway, args, env=environment)
    assert isinstance(result.exception, _Configured), result.output
    assert seen == [level]
