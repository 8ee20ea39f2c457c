"""``webfed demo``'s command line without starting it: the example file, ports, the example's
location, the ``--oidc-*`` options and what the demo requires of a provider's discovery document.
(test_game_browser.py, test_game_play.py and test_demo_provider.py run the whole demo.)"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.e2e.conftest import GAME_DIR
from tests.support.ports import free_port
from webfed.cli import main
from webfed.demo import (
    DemoError,
    Provider,
    ProviderEndpoints,
    client_authentication,
    discover_provider,
    find_game_dir,
    provider_from_options,
    render_game_file,
)


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


def test_the_default_file_is_the_example_with_the_port_alone_changed(tmp_path: Path) -> None:
    game = render_game_file(GAME_DIR / "webfed.yaml", tmp_path / "game.yaml", 9700)
    source = (GAME_DIR / "webfed.yaml").read_text(encoding="utf-8")
    assert game.path.read_text(encoding="utf-8") == source.replace(
        "127.0.0.1:8700", "127.0.0.1:9700"
    )


@pytest.mark.parametrize(
    ("issuer", "scheme_allowed"),
    [("https://accounts.google.com", False), ("http://127.0.0.1:9123/realms/game", True)],
    ids=["https", "loopback-http"],
)
def test_another_provider_replaces_the_development_one(
    tmp_path: Path, issuer: str, scheme_allowed: bool
) -> None:
    provider = Provider(issuer, "game-x.apps.example", "openid profile")
    game = render_game_file(GAME_DIR / "webfed.yaml", tmp_path / "game.yaml", 9700, provider)
    assert (game.issuer, game.client_id, game.login_key) == (
        issuer,
        "game-x.apps.example",
        issuer.split("://", 1)[1],
    )
    document = yaml.safe_load(game.path.read_text(encoding="utf-8"))
    assert document["providers"] == [{"url": issuer, "client_ids": ["game-x.apps.example"]}]
    assert document["identity_pools"][0]["openid_connect_providers"] == [issuer]
    assert document["settings"]["allow_http_issuers"] is scheme_allowed
    assert "dev-idp" not in game.path.read_text(encoding="utf-8")
    # webfed accepts it as it is (an https provider: without --allow-http-issuers).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBFED_", "AWS_"))}
    command = [sys.executable, "-m", "webfed", "apply", "-f", str(game.path), "--dry-run"]
    command += ["--data-dir", str(tmp_path / "data")]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"create OpenID Connect provider {issuer}" in result.stdout + result.stderr


SECRET = "do-not-print-me"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--oidc-issuer", "https://id.example"], "--oidc-issuer needs --oidc-client-id"),
        (["--oidc-client-id", "x"], "--oidc-client-id only goes with --oidc-issuer"),
        (["--oidc-scope", "openid"], "--oidc-scope only goes with --oidc-issuer"),
        (["--oidc-issuer", "http://id.example", "--oidc-client-id", "x"], "only on loopback"),
        (["--oidc-issuer", "ftp://id.example", "--oidc-client-id", "x"], "https:// URL"),
        (["--oidc-issuer", "https://id.example?a=b", "--oidc-client-id", "x"], "no query"),
        (["--oidc-issuer", "https://id.example#a", "--oidc-client-id", "x"], "no fragment"),
        (["--oidc-issuer", "https://u@id.example", "--oidc-client-id", "x"], "user name"),
        (["--oidc-issuer", "https://id.example:8443", "--oidc-client-id", "x"], "port"),
        (["--oidc-issuer", "https://id.example", "--oidc-client-id", "a b"], "without spaces"),
        (
            ["--oidc-issuer", "https://id.example", "--oidc-client-id", "x", "--oidc-scope",
             "profile email"],
            "must include openid",
        ),
        (
            ["--oidc-issuer", "https://id.example", "--oidc-client-id", "x", "--oidc-scope",
             "openid  profile"],
            "single spaces",
        ),
        (
            ["--oidc-issuer", "https://id.example", "--oidc-client-id", "x", "--oidc-login-key",
             "id.example"],
            "No such option '--oidc-login-key'",
        ),
    ],
    ids=[
        "issuer-without-client", "client-without-issuer", "scope-without-issuer",
        "http-not-loopback", "other-scheme", "query", "fragment", "user", "https-port",
        "client-space",
        "scope-without-openid", "scope-double-space", "login-key-is-no-option",
    ],
)  # fmt: skip
def test_provider_options_are_checked_before_anything_starts(
    tmp_path: Path, arguments: list[str], expected: str
) -> None:
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(main, ["demo", "--data-dir", str(data_dir), *arguments])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not data_dir.exists()


@pytest.mark.parametrize(
    "content",
    ["", "\n", f"{SECRET}\nsecond line\n", f"{SECRET}\x07\n", "x" * 5000],
    ids=["empty", "blank", "two-lines", "control", "too-long"],
)
def test_a_bad_secret_file_is_refused_without_quoting_it(tmp_path: Path, content: str) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(content, encoding="utf-8")
    arguments = ["demo", "--data-dir", str(tmp_path / "data"), "--oidc-issuer"]
    arguments += ["https://id.example", "--oidc-client-id", "x"]
    result = CliRunner().invoke(main, [*arguments, "--oidc-client-secret-file", str(secret_file)])
    assert result.exit_code == 2, result.output
    assert "expected one line of printable ASCII" in result.output
    assert SECRET not in result.output and "xxxxx" not in result.output


def test_a_secret_file_is_read_as_one_line(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(f"  {SECRET}\r\n", encoding="utf-8")
    provider = provider_from_options("https://id.example", "x", None, secret_file)
    assert provider is not None
    assert (provider.client_secret, provider.scope) == (SECRET, "openid profile")
    assert SECRET not in repr(provider)


@contextlib.contextmanager
def discovery_server(document: dict[str, Any]) -> Iterator[str]:
    """A loopback HTTP server answering ``document`` at any path; its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document).replace("BASE", base).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


DISCOVERY = {
    "issuer": "BASE",
    "authorization_endpoint": "BASE/authorize",
    "token_endpoint": "BASE/token",
    "code_challenge_methods_supported": ["S256"],
}


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        (None, "client_secret_basic"),  # Discovery's default
        (["client_secret_post", "client_secret_basic"], "client_secret_basic"),
        (["private_key_jwt", "client_secret_post"], "client_secret_post"),
    ],
    ids=["default", "both", "post-only"],
)
def test_discovery_decides_how_the_secret_is_sent(methods: list[str] | None, expected: str) -> None:
    document = dict(DISCOVERY)
    if methods is not None:
        document["token_endpoint_auth_methods_supported"] = methods
    with discovery_server(document) as base:
        endpoints = discover_provider(Provider(base, "x", "openid", client_secret=SECRET))
    assert endpoints == ProviderEndpoints(f"{base}/authorize", f"{base}/token", expected)


def test_an_authorization_endpoint_may_keep_a_query() -> None:
    document = {**DISCOVERY, "authorization_endpoint": "BASE/authorize?p=sign-in"}
    with discovery_server(document) as base:
        endpoints = discover_provider(Provider(base, "x", "openid"))
    assert endpoints == ProviderEndpoints(f"{base}/authorize?p=sign-in", f"{base}/token", None)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"issuer": "BASE/"}, "must be exactly the provider's issuer"),
        ({"token_endpoint": None}, "token_endpoint is missing"),
        ({"authorization_endpoint": "http://id.example/authorize"}, "only on loopback"),
        ({"authorization_endpoint": "BASE/authorize#top"}, "no fragment"),
        ({"code_challenge_methods_supported": ["plain"]}, "S256"),
        ({"token_endpoint_auth_methods_supported": ["none"]}, "accepts no client secret"),
    ],
    ids=[
        "other-issuer",
        "no-token-endpoint",
        "http-endpoint",
        "fragment",
        "no-s256",
        "public-only",
    ],
)
def test_a_provider_the_page_cannot_use_stops_the_demo(
    change: dict[str, Any], expected: str
) -> None:
    document = {**DISCOVERY, **change}
    present = {name: value for name, value in document.items() if value is not None}
    with discovery_server(present) as base, pytest.raises(DemoError) as raised:
        discover_provider(Provider(base, "x", "openid", client_secret=SECRET))
    assert expected in raised.value.message
    assert SECRET not in raised.value.message


def test_an_unreachable_provider_stops_the_demo_before_anything_starts(tmp_path: Path) -> None:
    issuer = f"http://127.0.0.1:{free_port()}"
    arguments = ["demo", "--data-dir", str(tmp_path / "data"), "--oidc-issuer", issuer]
    result = CliRunner().invoke(main, [*arguments, "--oidc-client-id", "x"])
    assert result.exit_code == 1, result.output
    assert f"the provider's discovery failed: {issuer}/.well-known/openid-configuration" in (
        result.output
    )
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("method", "headers", "form"),
    [
        # RFC 6749 section 2.3.1: id and secret form-urlencoded, then Basic.
        (
            "client_secret_basic",
            {"Authorization": "Basic " + base64.b64encode(b"game+x:a%3Ab%2Fc+d").decode()},
            {},
        ),
        ("client_secret_post", {}, {"client_id": "game x", "client_secret": "a:b/c d"}),
    ],
    ids=["basic", "post"],
)
def test_client_authentication(method: str, headers: dict[str, str], form: dict[str, str]) -> None:
    assert client_authentication(method, "game x", "a:b/c d") == (headers, form)
