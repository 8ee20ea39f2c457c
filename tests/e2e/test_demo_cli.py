"""``webfed demo``'s command line without starting it: the example file, ports, the example's
location. (test_game_browser.py and test_game_play.py run the whole demo.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.e2e.conftest import GAME_DIR
from tests.integration.conftest import free_port
from webfed.cli import main
from webfed.cli_demo import DemoError, find_game_dir, render_game_file


def test_the_example_file_is_rendered_for_the_demos_port(tmp_path: Path) -> None:
    game = render_game_file(GAME_DIR / "webfed.yaml", tmp_path / "game.yaml", 9700)
    text = game.path.read_text(encoding="utf-8")
    assert "127.0.0.1:8700" not in text
    assert game.issuer == "http://127.0.0.1:9700/dev-idp"
    assert game.login_key == "127.0.0.1:9700/dev-idp"
    assert game.client_id == "webfed-game"
    assert (game.pool_id, game.region) == (
        "us-east-1:6a3e0c52-9d1b-4f7e-8a2c-5b4d1e0f9a11",
        "us-east-1",
    )
    document = yaml.safe_load(text)
    assert document["identity_pools"][0]["openid_connect_providers"] == [game.issuer]
    # Both trust policies name this pool as the audience.
    for role in document["roles"]:
        condition = role["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]
        assert condition["cognito-identity.amazonaws.com:aud"] == game.pool_id


def test_the_example_file_passes_applys_checks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    command = [sys.executable, "-m", "webfed", "apply", "-f", str(GAME_DIR / "webfed.yaml")]
    command += ["--dry-run", "--data-dir", str(tmp_path), "--allow-http-issuers"]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    plan = result.stdout + result.stderr
    assert "create role /GameAuthenticated" in plan and "create role /GameGuest" in plan
    assert "create identity pool us-east-1:6a3e0c52-9d1b-4f7e-8a2c-5b4d1e0f9a11" in plan


def test_a_taken_port_stops_the_demo_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        ports = [str(free_port()) for _ in range(4)]
        arguments = ["demo", "--data-dir", str(tmp_path), "--port", str(port)]
        arguments += ["--s3-port", ports[0], "--dynamodb-port", ports[1]]
        arguments += ["--game-port", ports[2], "--moto-port", ports[3]]
        result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 1, result.output
    assert f"127.0.0.1:{port} (webfed) is not free" in result.output
    assert not any(tmp_path.iterdir())  # nothing written, no process started


def test_two_services_on_one_port_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--data-dir", str(tmp_path), "--port", "9800", "--s3-port", "9800"]
    )
    assert result.exit_code == 2
    assert "every port must be different" in result.output


def test_without_the_example_the_demo_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(DemoError) as raised:
        find_game_dir(tmp_path)
    assert str(tmp_path) in raised.value.message
    assert "clone" in raised.value.message and "--game-dir" in raised.value.message
    assert find_game_dir() == GAME_DIR
