"""``webfed demo --oidc-issuer``: the game with an OpenID provider that is not webfed's own.

The provider is npm ``oauth2-mock-server`` (``tests/providers/game_provider.mjs``), on a free
127.0.0.1 port; its ``/authorize`` sends the browser straight back with a code for ``johndoe``,
and its password grant gives ID tokens for any user name (play.py's ``--id-token``). Two demos
run side by side:

* ``public``: a public client; the page calls the provider's token endpoint itself (CORS);
* ``confidential``: ``--oidc-client-secret-file``; this provider instance answers 401 to any
  token request without the secret (sent ``client_secret_post``, the only method its discovery
  lists), so a sign-in only works if the demo's ``/oidc/token`` relay added it.

In headless Chromium, a player signs in with each, gets identity-pool credentials whose login is
the provider's, saves a score and is refused another identity's data. The relay's refusals and
the secret's confinement to the server are checked over HTTP. Last, the page's server runs
in-process against a third provider instance that wants HTTP Basic (a secret with characters
Basic needs encoded), and against a closed port.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import json
import os
import re
import secrets
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from tests.e2e.conftest import GAME_DIR, REPO, RunningDemo, start_demo, stop_demo
from tests.e2e.page_server import PAGE_ORIGIN, page_app, post_to_page
from tests.support.browser import headless_chromium
from tests.support.ports import free_port
from tests.support.processes import stop_process
from webfed.demo import Provider, discover_provider

PROVIDERS = REPO / "tests" / "providers"
CLIENT_ID = "game-x"
SECRET_METHOD = "client_secret_post"  # the demo prefers Basic: this provider only lists POST
TIMEOUT_MS = 20_000


def _read_lines(process: subprocess.Popen[bytes], pending: bytearray, wait: float) -> list[str]:
    """The complete lines the process has written so far (raw reads: no buffer hides any)."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    while select.select([descriptor], [], [], wait)[0]:
        chunk = os.read(descriptor, 65536)
        if not chunk:
            break
        pending += chunk
        wait = 0.2
    *lines, rest = pending.split(b"\n")
    pending[:] = rest
    return [line.decode() for line in lines]


@dataclass
class MockProvider:
    """A running game_provider.mjs and the token requests it has reported so far."""

    url: str
    process: subprocess.Popen[bytes]
    pending: bytearray = field(default_factory=bytearray)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def token_requests(self) -> list[dict[str, Any]]:
        self.seen += [json.loads(line) for line in _read_lines(self.process, self.pending, 0.2)]
        return list(self.seen)

    def id_token(self, username: str, secret: str | None = None) -> str:
        """An ID token for ``username`` (password grant), as a program signed in elsewhere."""
        form = {"grant_type": "password", "username": username, "client_id": CLIENT_ID}
        if secret is not None:
            form["client_secret"] = secret
        answer = httpx.post(f"{self.url}/token", data={**form, "scope": "openid"}, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["id_token"])


@dataclass
class Setup:
    provider: MockProvider
    demo: RunningDemo
    secret: str | None = None

    @property
    def login_key(self) -> str:
        return self.provider.url.removeprefix("http://")


def _start_provider(*args: str) -> MockProvider:
    node = shutil.which("node")
    if node is None or not (PROVIDERS / "node_modules" / "oauth2-mock-server").is_dir():
        pytest.fail("node and tests/providers/node_modules are needed: `npm ci` in tests/providers")
    process = subprocess.Popen(
        [node, "game_provider.mjs", str(free_port()), *args],
        cwd=PROVIDERS,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    pending = bytearray()
    lines = _read_lines(process, pending, 20.0)
    if lines and lines[0].startswith("READY "):
        return MockProvider(lines[0].removeprefix("READY "), process, pending)
    stop_process(process)
    raise RuntimeError("game_provider.mjs did not start")


def _provider_args(provider: MockProvider, *more: str) -> list[str]:
    return ["--oidc-issuer", provider.url, "--oidc-client-id", CLIENT_ID, *more]


@pytest.fixture(scope="module")
def setups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Setup]]:
    work = tmp_path_factory.mktemp("provider")
    secret = "s3cr3t-" + secrets.token_urlsafe(24)
    secret_file = work / "client-secret"
    secret_file.write_text(secret + "\n", encoding="utf-8")
    secret_file.chmod(0o600)
    started: list[MockProvider] = []
    demos: list[RunningDemo] = []
    try:
        public = _start_provider()
        started.append(public)
        confidential = _start_provider(str(secret_file), SECRET_METHOD)
        started.append(confidential)
        arguments = {
            "public": _provider_args(public),
            "confidential": _provider_args(
                confidential, "--oidc-client-secret-file", str(secret_file)
            ),
        }
        # Side by side: each demo takes most of its start-up waiting for its children.
        with ThreadPoolExecutor(2) as pool:
            futures = {
                name: pool.submit(start_demo, work / name, 90.0, extra)
                for name, extra in arguments.items()
            }
            for future in futures.values():
                demos.append(future.result())
        yield {
            "public": Setup(public, futures["public"].result()),
            "confidential": Setup(confidential, futures["confidential"].result(), secret),
        }
    finally:
        codes = [(demo, stop_demo(demo)) for demo in demos]
        for process in started:
            stop_process(process.process)
        for demo, code in codes:
            assert code == 0, f"webfed demo exited with {code}:\n{demo.logs()}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from headless_chromium()


def play(
    demo: RunningDemo, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(GAME_DIR / "play.py"), "--config-url", demo.config_url]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def describe_identity(demo: RunningDemo, identity_id: str) -> dict[str, Any]:
    """``DescribeIdentity`` as the administrator: which logins the identity is linked to."""
    profile = configparser.ConfigParser()
    profile.read(demo.admin_credentials, encoding="utf-8")
    cognito = boto3.client(
        "cognito-identity",
        endpoint_url=f"http://127.0.0.1:{demo.ports['webfed']}",
        region_name="us-east-1",
        aws_access_key_id=profile["webfed"]["aws_access_key_id"],
        aws_secret_access_key=profile["webfed"]["aws_secret_access_key"],
    )
    answer: dict[str, Any] = cognito.describe_identity(IdentityId=identity_id)
    return answer


def wait_text(page: Any, element_id: str, pattern: str) -> None:
    page.wait_for_function(
        "([id, pattern]) => new RegExp(pattern).test("
        "document.getElementById(id).textContent.trim())",
        arg=[element_id, pattern],
        timeout=TIMEOUT_MS,
    )


@pytest.mark.parametrize("kind", ["public", "confidential"])
def test_a_player_signs_in_with_the_provider_and_keeps_to_their_own_data(
    browser: Any, setups: dict[str, Setup], kind: str
) -> None:
    setup = setups[kind]
    provider, demo = setup.provider, setup.demo
    # Another player of the same provider, from the command line: play.py --id-token.
    bob_run = play(demo, "--json", "--id-token", "-", stdin=provider.id_token("bob", setup.secret))
    assert bob_run.returncode == 0, bob_run.stdout + bob_run.stderr + demo.logs()
    bob = json.loads(bob_run.stdout)
    assert bob["player"] == "bob" and bob["avatar"]["uploaded"] is True

    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(demo.url)
    page.click("#sign-in-button")  # the provider's /authorize sends the browser straight back
    page.locator("#player-panel").wait_for(state="visible")
    wait_text(page, "status", "^Playing as ")
    assert page.locator("#player-name").inner_text().strip() == "johndoe"
    assert page.locator("#role-kind").inner_text().strip() == "authenticated"
    identity_id = page.locator("#identity-id").inner_text().strip()
    assert identity_id.startswith("us-east-1:") and identity_id != bob["identityId"]
    assert "code=" not in page.url
    # The identity's login is the mock provider's, under the issuer without its scheme.
    assert describe_identity(demo, identity_id)["Logins"] == [setup.login_key]
    assert describe_identity(demo, bob["identityId"])["Logins"] == [setup.login_key]

    for _ in range(10):
        page.click("#click-target")
    score = int(page.locator("#game-score").inner_text())
    page.click("#save-score")
    page.locator(f'#scores-list tr[data-score="{score}"]').first.wait_for(state="attached")
    assert page.locator("#scores-list tr").count() == 1  # johndoe's own score, not bob's

    page.fill("#other-identity", bob["identityId"])
    page.click("#try-other-scores")
    wait_text(page, "denial-code", "^AccessDeniedException$")
    page.click("#try-other-avatar")
    wait_text(page, "denial-code", "^AccessDenied$")
    assert not errors, errors
    context.close()

    requests = [r for r in provider.token_requests() if r["grant_type"] == "authorization_code"]
    assert requests, provider.seen
    if setup.secret is None:
        assert requests[-1]["authentication"] == "none"  # the browser's own call, no secret
    else:
        assert (requests[-1]["authentication"], requests[-1]["secret_matches"]) == (
            SECRET_METHOD,
            True,
        )


def test_play_py_says_it_cannot_fill_in_another_providers_sign_in(
    setups: dict[str, Setup],
) -> None:
    run = play(setups["public"].demo, "--user", "alice")
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "--id-token" in lines[0], run.stderr
    assert setups["public"].provider.url in lines[0]


def test_play_py_refuses_a_file_that_is_not_a_token(
    setups: dict[str, Setup], tmp_path: Path
) -> None:
    not_a_token = tmp_path / "token"
    not_a_token.write_text("hello\n", encoding="utf-8")
    run = play(setups["public"].demo, "--id-token", str(not_a_token))
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr


def _authorization_code(provider: MockProvider, redirect_uri: str) -> tuple[str, str]:
    """A code from the provider's /authorize for ``redirect_uri``, and its PKCE verifier."""
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": "s",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    answer = httpx.get(f"{provider.url}/authorize", params=query, timeout=10)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0], verifier


def test_the_relay_adds_the_secret_and_refuses_anything_else(setups: dict[str, Setup]) -> None:
    setup = setups["confidential"]
    provider, demo = setup.provider, setup.demo
    relay = f"{demo.url}oidc/token"
    page_origin = demo.url.rstrip("/")
    config = httpx.get(demo.config_url, timeout=10).json()
    assert config["oidc"]["tokenEndpoint"] == relay
    code, verifier = _authorization_code(provider, demo.url)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": demo.url,
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
    }

    # The provider itself refuses the page's request as the browser would send it directly.
    unsigned = {k: v for k, v in form.items() if k != "code_verifier"} | {"code": "x"}
    direct = httpx.post(f"{provider.url}/token", data=unsigned, timeout=10)
    assert (direct.status_code, direct.json()["error"]) == (401, "invalid_client")
    before = len(provider.token_requests())

    def post(data: Any = None, **options: Any) -> httpx.Response:
        headers = {"Origin": page_origin, **options.pop("headers", {})}
        return httpx.post(relay, data=data, headers=headers, timeout=10, **options)

    refusals = {
        "foreign origin": post(form, headers={"Origin": "http://evil.test"}),
        "other loopback origin": post(form, headers={"Origin": "http://127.0.0.1:1"}),
        "foreign host": post(form, headers={"Host": "evil.test"}),
        "password grant": post({**form, "grant_type": "password", "username": "x"}),
        "refresh grant": post({**form, "grant_type": "refresh_token", "refresh_token": "r"}),
        "client credentials": post({**form, "grant_type": "client_credentials"}),
        "another client": post({**form, "client_id": "someone-else"}),
        "another redirect": post({**form, "redirect_uri": "http://127.0.0.1:1/"}),
        "no verifier": post({k: v for k, v in form.items() if k != "code_verifier"}),
        "repeated": post(content="code=a&code=b&grant_type=authorization_code",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}),
        "json": post(json=form),
        "oversize": post({**form, "code": "c" * 9000}),
    }  # fmt: skip
    statuses = {name: answer.status_code for name, answer in refusals.items()}
    assert statuses == {
        "foreign origin": 403,
        "other loopback origin": 403,
        "foreign host": 403,
        "password grant": 400,
        "refresh grant": 400,
        "client credentials": 400,
        "another client": 401,
        "another redirect": 400,
        "no verifier": 400,
        "repeated": 400,
        "json": 415,
        "oversize": 413,
    }
    assert refusals["password grant"].json()["error"] == "unsupported_grant_type"
    assert all(answer.headers["cache-control"] == "no-store" for answer in refusals.values())
    assert len(provider.token_requests()) == before  # none of them reached the provider

    answer = post(form)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert "refresh_token" not in tokens  # the browser has no use for it
    assert answer.headers["cache-control"] == "no-store"
    claims = tokens["id_token"].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["aud"] == (
        CLIENT_ID
    )
    last = provider.token_requests()[-1]
    assert (last["authentication"], last["secret_matches"]) == (SECRET_METHOD, True)
    # A code is used once: the provider's refusal comes back as the provider wrote it.
    again = post(form)
    assert again.status_code == 400
    assert again.json()["detail"] == "code_challenge required"  # oauth2-mock-server's words


def test_the_secret_stays_on_the_server(setups: dict[str, Setup]) -> None:
    """Nothing the browser can fetch, nothing the demo wrote holds the secret or a token."""
    setup = setups["confidential"]
    assert setup.secret is not None
    demo = setup.demo
    served = ["config.json", "", "index.html", "style.css", "dist/game.js"]
    for path in served:
        answer = httpx.get(f"{demo.url}{path}", timeout=10)
        assert answer.status_code == 200 and setup.secret not in answer.text, path
    written = [demo.error_path, *(p for p in demo.data_dir.rglob("*") if p.is_file())]
    assert any(path.name == "webfed.log" for path in written)
    token_shape = re.compile(rb"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.")
    for path in written:
        content = path.read_bytes()
        assert setup.secret.encode() not in content, path
        if path.suffix == ".log" or path == demo.error_path:
            assert not token_shape.search(content), path  # no ID token in any log


def test_the_relay_sends_the_secret_with_basic_authentication(tmp_path: Path) -> None:
    # Characters that HTTP Basic needs form-encoded first (RFC 6749 section 2.3.1).
    secret = f"a secret: with+plus/{secrets.token_urlsafe(8)}"
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret, encoding="utf-8")
    provider = _start_provider(str(secret_file), "client_secret_basic")
    try:
        found = discover_provider(Provider(provider.url, CLIENT_ID, "openid", client_secret=secret))
        assert found.client_authentication == "client_secret_basic"
        code, verifier = _authorization_code(provider, f"{PAGE_ORIGIN}/")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{PAGE_ORIGIN}/",
            "code_verifier": verifier,
        }
        app = page_app(
            token_endpoint=found.token_endpoint, secret=secret, method="client_secret_basic"
        )
        answer = post_to_page(app, "/oidc/token", data=form)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) >= {"id_token", "access_token"}
        last = provider.token_requests()[-1]
        assert (last["authentication"], last["secret_matches"], last["client_id"]) == (
            "client_secret_basic",
            True,
            CLIENT_ID,
        )
    finally:
        stop_process(provider.process)


def test_an_unreachable_token_endpoint_is_a_502() -> None:
    closed = f"http://127.0.0.1:{free_port()}/token"
    form = {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": f"{PAGE_ORIGIN}/",
        "code_verifier": "v" * 43,
    }
    answer = post_to_page(
        page_app(token_endpoint=closed, secret="s", cognito_relay=False), "/oidc/token", data=form
    )
    assert answer.status_code == 502
    assert answer.json()["error"] == "temporarily_unavailable"
