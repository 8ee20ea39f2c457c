"""``webfed demo``: the game example of ``examples/game`` running on this machine, one command.

    webfed demo                 # then open http://127.0.0.1:8710/
    webfed demo --port 9700 --game-port 9710 --data-dir /tmp/demo

It starts, all on 127.0.0.1 and each in its own process:

* ``webfed serve --dev-idp --allow-http-issuers --config examples/game/webfed.yaml`` (8700): the
  development identity provider, the IAM roles and the identity pool of the example;
* ``moto_server`` (8711), the S3 and DynamoDB the game's data lives in (in memory), where the
  demo creates the bucket ``game-assets`` and the table ``game-scores``;
* ``webfed gateway s3`` (8701) and ``webfed gateway dynamodb`` (8702) in front of moto, which
  let the browser in (CORS) with its identity-pool credentials;

and serves the page itself (8710): ``index.html``, the committed bundle ``dist/game.js``,
``/config.json`` (every endpoint the page needs) and ``POST /admin/decode``, which decodes an
encoded authorization message with the administrator's credentials on the server side so that
the page can show *why* a call was refused without ever holding the administrator's keys.

``--oidc-issuer URL --oidc-client-id ID`` signs players in with another OpenID provider instead
of the development one (which is then not started): its discovery document is read before
anything starts, the rendered declarative file registers it as the pool's only provider, and
``config.json`` points the page at it. With ``--oidc-client-secret-file``, the page's token
requests go to ``POST /oidc/token``, which adds the client secret (RFC 6749 section 2.3.1) and
passes them on to the provider: the secret never reaches the browser.

Ctrl-C or SIGTERM stops everything (the children are asked to stop, then killed after ten
seconds; on Linux they are also told to stop should the demo itself die). See docs/demo.md.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from types import FrameType
from typing import IO, Any, TypeVar
from urllib.parse import parse_qsl, quote_plus, urlsplit

import click
import httpx
import yaml

__all__ = ["DEFAULT_PORTS", "demo", "find_game_dir"]

DEFAULT_PORTS = {"webfed": 8700, "s3": 8701, "dynamodb": 8702, "game": 8710, "moto": 8711}
HOST = "127.0.0.1"
BUCKET = "game-assets"
TABLE = "game-scores"
# The address examples/game/webfed.yaml is written for (its provider URL and login key).
_FILE_ADDRESS = f"{HOST}:{DEFAULT_PORTS['webfed']}"
# The variables the children may inherit: everything else named WEBFED_* would point the demo
# at another database, data directory, account or port than the ones it set up.
_PASSED_THROUGH = (
    "WEBFED_IDENTITY_POOL_CREDENTIALS_SECONDS",  # short-lived credentials: watch SDKs refresh
    "WEBFED_LOG_LEVEL",
    "WEBFED_LOG_FORMAT",
)
_F = TypeVar("_F", bound=Callable[..., Any])
_STOP_TIMEOUT = 10.0
_MAX_ENCODED = 10_240
_NO_STORE = {"Cache-Control": "no-store"}
_START_TIMEOUT = 60.0
_DEFAULT_SCOPE = "openid profile"
_MAX_ISSUER = 255  # IAM's limit on a provider URL
_MAX_CLIENT_ID = 255  # IAM's limit on a client id
_MAX_SCOPE = 1024
_MAX_SECRET_FILE = 4096
_MAX_DISCOVERY = 256 * 1024
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 section 3.3
_SECRET_METHODS = ("client_secret_basic", "client_secret_post")
_RELAY_PATH = "/oidc/token"
_TOKEN_PARAMETERS = ("grant_type", "code", "redirect_uri", "client_id", "code_verifier")
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1
_MAX_CODE = 2048
_MAX_TOKEN_REQUEST = 8192
_MAX_TOKEN_RESPONSE = 64 * 1024
_TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class DemoError(click.ClickException):
    """The demo cannot start; the message says why and what to do."""


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def find_game_dir(explicit: Path | None = None) -> Path:
    """``examples/game`` of the repository webfed runs from.

    The example is not part of the installed package: it is found next to the source tree (a
    clone, installed editable or run with ``python -m webfed``), then under the current
    directory (a clone, with webfed installed from elsewhere).
    """
    candidates = (
        [explicit]
        if explicit is not None
        else [
            Path(__file__).resolve().parents[2] / "examples" / "game",
            Path.cwd() / "examples" / "game",
        ]
    )
    for candidate in candidates:
        if (candidate / "webfed.yaml").is_file() and (candidate / "dist" / "game.js").is_file():
            return candidate
    where = ", ".join(str(candidate) for candidate in candidates)
    raise DemoError(
        f"the game example was not found (looked in {where}). Run `webfed demo` from a clone "
        "of the webfed repository, or pass --game-dir DIR (DIR/webfed.yaml and DIR/dist/game.js)."
    )


@dataclass(frozen=True)
class Ports:
    webfed: int
    s3: int
    dynamodb: int
    game: int
    moto: int

    def url(self, name: str) -> str:
        return f"http://{HOST}:{getattr(self, name)}"


@dataclass(frozen=True)
class GameFile:
    """What the demo reads from the (rendered) declarative file."""

    path: Path
    pool_id: str
    region: str
    issuer: str
    client_id: str

    @property
    def login_key(self) -> str:
        """The pool's ``Logins`` key for the provider: its URL without the scheme."""
        return login_key_of(self.issuer)


def render_game_file(
    source: Path, target: Path, webfed_port: int, provider: Provider | None = None
) -> GameFile:
    """Writes the example's declarative file for a webfed on ``webfed_port``.

    The file names the development provider by its URL, which contains webfed's address; when
    the demo runs on another port, every ``127.0.0.1:8700`` becomes ``127.0.0.1:PORT``. With
    ``provider`` (``--oidc-issuer``), that provider replaces the development one: it is the
    file's only provider, with the page's client id, and the one the identity pools trust.
    """
    text = source.read_text(encoding="utf-8")
    text = text.replace(_FILE_ADDRESS, f"{HOST}:{webfed_port}")
    if provider is not None:
        text = _with_provider(yaml.safe_load(text), provider, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    document = yaml.safe_load(text)
    wanted = provider.issuer if provider is not None else None
    try:
        pool = document["identity_pools"][0]
        issuer = next(
            entry["url"]
            for entry in document["providers"]
            if entry["url"] == wanted or (wanted is None and str(entry["url"]).endswith("/dev-idp"))
        )
        client_id = next(
            entry["client_ids"][0] for entry in document["providers"] if entry["url"] == issuer
        )
        pool_id = str(pool["id"])
    except (KeyError, IndexError, TypeError, StopIteration) as error:
        raise DemoError(
            f"{source}: expected an identity pool with an id and the /dev-idp provider "
            f"with a client id ({error!r})"
        ) from error
    region = pool_id.split(":", 1)[0]
    return GameFile(target, pool_id, region, str(issuer), str(client_id))


def _with_provider(document: Any, provider: Provider, source: Path) -> str:
    """The example's declarative document with ``provider`` in place of the development one."""
    from webfed.declarative.source import Dumper

    try:
        pools = document["identity_pools"]
        settings = document.setdefault("settings", {})
        for pool in pools:
            pool["openid_connect_providers"] = [provider.issuer]
    except (KeyError, TypeError, AttributeError) as error:
        raise DemoError(f"{source}: expected settings and identity pools ({error!r})") from error
    # Only an http:// issuer (on loopback: checked with the options) needs http issuers.
    settings["allow_http_issuers"] = provider.issuer.startswith("http://")
    document["providers"] = [{"url": provider.issuer, "client_ids": [provider.client_id]}]
    header = (
        f"# {source.name} for webfed demo --oidc-issuer {provider.issuer}: the identity pool\n"
        "# trusts that provider (and no other) for the page's client id. Written by the demo.\n"
    )
    return header + yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True)


# --- The page's OpenID provider (--oidc-*) -------------------------------------------------


def login_key_of(issuer: str) -> str:
    """The pool's ``Logins`` key for an OpenID Connect provider: its URL without the scheme.

    That is the name webfed's identity pools know the provider by (the resource of its IAM
    ARN), as in Amazon Cognito.
    """
    return issuer.split("://", 1)[1]


@dataclass(frozen=True)
class Provider:
    """The provider of ``--oidc-issuer``, checked: the page signs players in with it."""

    issuer: str
    client_id: str
    scope: str
    client_secret: str | None = field(default=None, repr=False)

    @property
    def login_key(self) -> str:
        return login_key_of(self.issuer)

    @property
    def on_loopback(self) -> bool:
        return _is_loopback(urlsplit(self.issuer).hostname or "")


@dataclass(frozen=True)
class ProviderEndpoints:
    """What the demo takes from the provider's discovery document."""

    authorization_endpoint: str
    token_endpoint: str
    #: How the token relay authenticates the client (``client_secret_basic`` or
    #: ``client_secret_post``); ``None`` without a client secret.
    client_authentication: str | None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(url: str, *, query: bool = False) -> str | None:
    """Why ``url`` cannot name the provider or one of its endpoints (``None``: it can).

    An endpoint may have a query (RFC 6749 section 3.1, kept when parameters are added); an
    issuer may not (OpenID Connect Discovery section 2, IAM).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return "is not a URL"
    if not url.startswith(("https://", "http://")) or not parts.hostname:
        return "must be an https:// URL (http:// only on loopback)"
    if url.startswith("http://") and not _is_loopback(parts.hostname):
        return "may use http:// only on loopback (127.0.0.1, ::1, localhost): use https://"
    if parts.fragment or "#" in url or "@" in parts.netloc:
        return "must have no fragment or user name"
    if not query and (parts.query or "?" in url):
        return "must have no query"
    if any(character.isspace() or not character.isprintable() for character in url):
        return "must not contain spaces or control characters"
    return None


def check_issuer(url: str) -> str:
    """``--oidc-issuer``: what IAM accepts as a provider URL, https (or http on loopback)."""
    problem = _url_problem(url)
    if problem is None and len(url) > _MAX_ISSUER:
        problem = f"is longer than {_MAX_ISSUER} characters"
    if problem is None and url.startswith("https://") and urlsplit(url).port is not None:
        # IAM's rule, which webfed follows unless it allows http issuers (test providers).
        problem = "must not name a port: an https provider URL has none (as in IAM)"
    if problem is not None:
        raise click.BadParameter(f"{url!r} {problem}", param_hint="--oidc-issuer")
    return url


def check_client_id(client_id: str) -> str:
    if not 0 < len(client_id) <= _MAX_CLIENT_ID or not _printable_word(client_id):
        raise click.BadParameter(
            f"expected 1 to {_MAX_CLIENT_ID} printable characters without spaces",
            param_hint="--oidc-client-id",
        )
    return client_id


def check_scope(scope: str) -> str:
    """RFC 6749 section 3.3: space-separated scope tokens; OpenID Connect needs ``openid``."""
    tokens = scope.split(" ")
    if len(scope) > _MAX_SCOPE or not all(_SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise click.BadParameter(
            "expected scope tokens separated by single spaces", param_hint="--oidc-scope"
        )
    if "openid" not in tokens:
        raise click.BadParameter(
            "must include openid (the page needs an ID token)", param_hint="--oidc-scope"
        )
    return scope


def read_client_secret(path: Path) -> str:
    """``--oidc-client-secret-file``: one line, the client secret. Errors never quote it."""
    hint = "--oidc-client-secret-file"
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_SECRET_FILE + 1)
    except OSError as error:
        raise click.BadParameter(f"{path}: {error.strerror}", param_hint=hint) from error
    secret = raw.decode("ascii", errors="replace").strip()
    # RFC 6749 appendix A.2: a client secret is printable ASCII (%x20-7E).
    if len(raw) > _MAX_SECRET_FILE or not secret or not all(" " <= c <= "~" for c in secret):
        raise click.BadParameter(
            f"{path}: expected one line of printable ASCII, the client secret "
            f"(at most {_MAX_SECRET_FILE} bytes)",
            param_hint=hint,
        )
    return secret


def _printable_word(text: str) -> bool:
    return all(character.isprintable() and not character.isspace() for character in text)


def provider_from_options(
    issuer: str | None,
    client_id: str | None,
    scope: str | None,
    login_key: str | None,
    secret_file: Path | None,
) -> Provider | None:
    """The ``--oidc-*`` options checked together; ``None`` without ``--oidc-issuer``."""
    if issuer is None:
        given = {
            "--oidc-client-id": client_id,
            "--oidc-scope": scope,
            "--oidc-login-key": login_key,
            "--oidc-client-secret-file": secret_file,
        }
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            raise click.UsageError(f"{', '.join(extra)} only goes with --oidc-issuer")
        return None
    issuer = check_issuer(issuer)
    if client_id is None:
        raise click.UsageError(
            "--oidc-issuer needs --oidc-client-id, the page's client id at that provider"
        )
    if login_key is not None and login_key != login_key_of(issuer):
        raise click.BadParameter(
            f"{login_key!r}: webfed's identity pool knows an OpenID Connect provider by its "
            f"URL without the scheme, {login_key_of(issuer)!r}, and refuses logins under any "
            "other name",
            param_hint="--oidc-login-key",
        )
    return Provider(
        issuer=issuer,
        client_id=check_client_id(client_id),
        scope=check_scope(scope if scope is not None else _DEFAULT_SCOPE),
        client_secret=read_client_secret(secret_file) if secret_file is not None else None,
    )


def _fetch_json(url: str, limit: int) -> dict[str, Any]:
    """A JSON object from ``url``: no redirect followed, at most ``limit`` bytes read."""
    with httpx.stream(
        "GET", url, timeout=10.0, follow_redirects=False, headers={"Accept": "application/json"}
    ) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise ValueError(f"larger than {limit} bytes")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def discover_provider(provider: Provider) -> ProviderEndpoints:
    """The provider's endpoints from its discovery document (OpenID Connect Discovery 1.0).

    The document must name the issuer exactly as given (section 4.3), and its endpoints must be
    URLs the browser may be sent to (https, or http on loopback).
    """
    url = f"{provider.issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        document = _fetch_json(url, _MAX_DISCOVERY)
    except (httpx.HTTPError, ValueError) as error:
        raise DemoError(f"the provider's discovery failed: {url}: {error}") from error
    if document.get("issuer") != provider.issuer:
        raise DemoError(
            f"{url} names the issuer {str(document.get('issuer'))[:200]!r}, not "
            f"{provider.issuer!r}: --oidc-issuer must be exactly the provider's issuer"
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint"):
        value = document.get(name)
        problem = _url_problem(value, query=True) if isinstance(value, str) else "is missing"
        if problem is not None:
            raise DemoError(f"{url}: {name} {problem}")
        endpoints[name] = str(value)
    challenges = document.get("code_challenge_methods_supported")
    if isinstance(challenges, list) and "S256" not in challenges:
        raise DemoError(f"{url}: the provider does not support PKCE with S256, which the page uses")
    return ProviderEndpoints(
        endpoints["authorization_endpoint"],
        endpoints["token_endpoint"],
        _client_authentication(document, url) if provider.client_secret is not None else None,
    )


def _client_authentication(document: dict[str, Any], url: str) -> str:
    """How to send the client secret: Basic if accepted (RFC 6749 2.3.1's default), else POST.

    Without ``token_endpoint_auth_methods_supported``, Discovery's default is Basic.
    """
    methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    for method in _SECRET_METHODS:
        if isinstance(methods, list) and method in methods:
            return method
    raise DemoError(
        f"{url}: the provider accepts no client secret at its token endpoint "
        f"(token_endpoint_auth_methods_supported: {json.dumps(methods)[:200]}); "
        "leave out --oidc-client-secret-file for a public client"
    )


def _die_with_parent() -> None:
    """In the child, before exec: receive SIGTERM when the demo dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


class Processes:
    """The demo's children: started in order, stopped in reverse order."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        linux = sys.platform.startswith("linux")
        process = subprocess.Popen(  # noqa: S603  (argv: this Python, fixed arguments)
            argv,
            env={**self.env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: a terminal's Ctrl-C reaches the demo alone, which stops the
            # children in order.
            start_new_session=True,
            preexec_fn=_die_with_parent if linux else None,  # noqa: PLW1509
        )
        child = Child(name, process, log_path, log)
        self.children.append(child)
        return child

    def wait_healthy(self, child: Child, url: str, timeout: float = _START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise DemoError(
                    f"{child.name} exited with code {child.process.returncode}; "
                    f"the end of {child.log_path}:\n{child.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise DemoError(
            f"{child.name} did not answer {url} within {timeout:.0f} s; see {child.log_path}"
        )

    def first_exited(self) -> Child | None:
        return next((child for child in self.children if child.process.poll() is not None), None)

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + _STOP_TIMEOUT
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child._log.close()
        self.children.clear()


def _child_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WEBFED_", "AWS_")) or key in _PASSED_THROUGH
    }
    # Never reach out to a real AWS account, whatever the machine's configuration says.
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


def _create_upstream_resources(moto_url: str, region: str, key_id: str, secret: str) -> None:
    """The bucket and the table, created in moto directly (the upstream's own credentials)."""
    import botocore.session

    session = botocore.session.get_session()
    common: dict[str, Any] = {
        "region_name": region,
        "endpoint_url": moto_url,
        "aws_access_key_id": key_id,
        "aws_secret_access_key": secret,
    }
    s3 = session.create_client("s3", **common)
    s3.create_bucket(Bucket=BUCKET)
    dynamodb = session.create_client("dynamodb", **common)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "identityId", "KeyType": "HASH"},
            {"AttributeName": "playedAt", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "identityId", "AttributeType": "S"},
            {"AttributeName": "playedAt", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _discover(issuer: str) -> dict[str, Any]:
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=5.0)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise DemoError(
            f"the development identity provider's discovery failed: {url}: {error}"
        ) from error
    return document


def _dev_endpoints(game: GameFile) -> ProviderEndpoints:
    discovery = _discover(game.issuer)
    return ProviderEndpoints(discovery["authorization_endpoint"], discovery["token_endpoint"], None)


def _main_listener_allows(origin: str, webfed_url: str) -> bool:
    """Whether webfed's main listener answers a browser's CORS preflight from ``origin``."""
    with contextlib.suppress(httpx.HTTPError):
        response = httpx.options(
            f"{webfed_url}/",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
            },
            timeout=5.0,
        )
        allowed = response.headers.get("access-control-allow-origin")
        return response.status_code < 300 and allowed in (origin, "*")
    return False


@dataclass(frozen=True)
class PageConfig:
    """Everything the game page's server needs."""

    game_dir: Path
    page_origin: str
    webfed_url: str
    page: dict[str, Any]
    admin_key_id: str
    admin_secret: str = field(repr=False)
    relay: bool
    token_relay: TokenRelay | None = None


def _from_the_page(request: Any, page_origin: str) -> bool:
    """Whether a request to the page's server comes from the page (or a local program).

    A loopback client; the page's own Host (another name resolving to 127.0.0.1 is DNS
    rebinding); and no foreign Origin (browsers send one on every cross-origin POST).
    """
    client = request.client
    origin = request.headers.get("origin")
    return (
        client is not None
        and client.host in ("127.0.0.1", "::1")
        and request.headers.get("host") == page_origin.split("://", 1)[1]
        and (origin is None or origin == page_origin)
    )


def _decoder(config: PageConfig) -> Callable[[Any], Awaitable[Any]]:
    """``POST /admin/decode``: sts:DecodeAuthorizationMessage as the administrator."""
    import anyio
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    def decode_now(encoded: str) -> str:
        import botocore.session
        from botocore.config import Config

        client = botocore.session.get_session().create_client(
            "sts",
            region_name=config.page["region"],
            endpoint_url=config.webfed_url,
            aws_access_key_id=config.admin_key_id,
            aws_secret_access_key=config.admin_secret,
            config=Config(retries={"max_attempts": 1}),
        )
        return str(client.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])

    async def decode(request: Request) -> Response:
        # The administrator's helper answers the page itself only: it reveals why a request
        # was refused, which AWS keeps from the caller on purpose. So the page's own requests
        # (see _from_the_page), with a JSON body, which a cross-site form cannot send without
        # a preflight.
        if not _from_the_page(request, config.page_origin):
            return JSONResponse({"error": "the page's own origin only"}, status_code=403)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return JSONResponse({"error": "send application/json"}, status_code=415)
        try:
            body = await request.json()
            encoded = body["encodedMessage"]
            if not isinstance(encoded, str) or not 0 < len(encoded) <= _MAX_ENCODED:
                raise ValueError("encodedMessage must be a non-empty string")
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send {"encodedMessage": "..."}'}, status_code=400)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            decoded = await anyio.to_thread.run_sync(decode_now, encoded)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Error")
            return JSONResponse({"error": code}, status_code=400)
        except BotoCoreError:
            return JSONResponse({"error": "webfed is unreachable"}, status_code=502)
        return JSONResponse({"decodedMessage": json.loads(decoded)}, headers=_NO_STORE)

    return decode


def _relay(webfed_url: str) -> Callable[[Any], Awaitable[Any]]:
    """``POST /cognito-identity``: the page's unsigned Cognito Identity calls, passed to webfed.

    Used only while webfed's main listener answers no CORS preflight: the page then reaches
    the Cognito Identity API through its own origin.
    """
    from starlette.requests import Request
    from starlette.responses import Response

    forwarded = ("content-type", "x-amz-target", "x-amz-user-agent", "user-agent")

    async def relay(request: Request) -> Response:
        headers = {name: request.headers[name] for name in forwarded if name in request.headers}
        async with httpx.AsyncClient(timeout=30.0) as http:
            upstream = await http.post(
                f"{webfed_url}/", content=await request.body(), headers=headers
            )
        passed = {
            name: upstream.headers[name]
            for name in ("content-type", "x-amzn-requestid")
            if name in upstream.headers
        }
        return Response(upstream.content, status_code=upstream.status_code, headers=passed)

    return relay


@dataclass(frozen=True)
class TokenRelay:
    """``POST /oidc/token``: the page's token request, sent on with the client secret."""

    token_endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    client_authentication: str  # client_secret_basic or client_secret_post
    redirect_uris: tuple[str, ...]  # the page's own addresses


class _RelayRefusal(Exception):
    """A token request the relay does not pass on: an RFC 6749 section 5.2 error."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


def client_authentication(
    method: str, client_id: str, client_secret: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and form fields authenticating a client (RFC 6749 section 2.3.1).

    ``client_secret_basic``: HTTP Basic, the id and secret each form-urlencoded first;
    ``client_secret_post``: both in the body.
    """
    if method == "client_secret_basic":
        pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
        encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}, {}
    if method == "client_secret_post":
        return {}, {"client_id": client_id, "client_secret": client_secret}
    raise ValueError(f"unknown client authentication method {method!r}")


def token_form(body: bytes, relay: TokenRelay) -> dict[str, str]:
    """The page's token request, checked: the authorization code grant with PKCE, only.

    RFC 6749 section 4.1.3 (each parameter at most once, section 3.2) and RFC 7636 section 4.5.
    """
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=8
        )
    except ValueError as error:
        raise _RelayRefusal(400, "invalid_request", "send a form-encoded token request") from error
    form = dict(pairs)
    if len(form) != len(pairs):
        raise _RelayRefusal(400, "invalid_request", "a parameter is repeated")
    if form.get("grant_type") != "authorization_code":
        raise _RelayRefusal(
            400, "unsupported_grant_type", "the relay passes on authorization codes only"
        )
    unexpected = sorted(set(form) - set(_TOKEN_PARAMETERS))
    if unexpected:
        raise _RelayRefusal(400, "invalid_request", f"unexpected parameter {unexpected[0][:40]}")
    if form.get("client_id", relay.client_id) != relay.client_id:
        raise _RelayRefusal(401, "invalid_client", "not the page's client id")
    if not 0 < len(form.get("code", "")) <= _MAX_CODE:
        raise _RelayRefusal(400, "invalid_request", "code is missing or too long")
    if not _CODE_VERIFIER.fullmatch(form.get("code_verifier", "")):
        raise _RelayRefusal(400, "invalid_request", "code_verifier (RFC 7636) is required")
    if form.get("redirect_uri") not in relay.redirect_uris:
        raise _RelayRefusal(400, "invalid_request", "redirect_uri is not the page's")
    return {name: form[name] for name in ("grant_type", "code", "redirect_uri", "code_verifier")}


async def _read_body(request: Any, limit: int) -> bytes:
    """The request's body, refused (413) past ``limit`` bytes, announced or not."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        raise _RelayRefusal(413, "invalid_request", f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _RelayRefusal(413, "invalid_request", f"the body is larger than {limit} bytes")
    return bytes(body)


async def _exchange(relay: TokenRelay, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The provider's answer to the code, with the client authenticated by its secret.

    No redirect is followed and at most ``_MAX_TOKEN_RESPONSE`` bytes are read. The refresh
    token is dropped: the page never uses one, and it would outlive the sign-in in the browser.
    """
    headers, credentials = client_authentication(
        relay.client_authentication, relay.client_id, relay.client_secret
    )
    unreachable = _RelayRefusal(
        502, "temporarily_unavailable", "the provider's token endpoint did not answer usably"
    )
    try:
        async with (
            httpx.AsyncClient(timeout=10.0, follow_redirects=False) as http,
            http.stream(
                "POST",
                relay.token_endpoint,
                data={**form, **credentials},
                headers={"Accept": "application/json", **headers},
            ) as response,
        ):
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > _MAX_TOKEN_RESPONSE:
                    raise unreachable
            status = response.status_code
    except httpx.HTTPError as error:
        raise unreachable from error
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not (status == 200 or 400 <= status < 500):
        raise unreachable
    answer.pop("refresh_token", None)
    return status, answer


def _token_relay(config: PageConfig, relay: TokenRelay) -> Callable[[Any], Awaitable[Any]]:
    """``POST /oidc/token``, for the page alone (see :func:`_from_the_page`)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def token(request: Request) -> Response:
        try:
            if not _from_the_page(request, config.page_origin):
                raise _RelayRefusal(403, "access_denied", "the page's own origin only")
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/x-www-form-urlencoded":
                raise _RelayRefusal(415, "invalid_request", "send a form-encoded token request")
            form = token_form(await _read_body(request, _MAX_TOKEN_REQUEST), relay)
            status, answer = await _exchange(relay, form)
        except _RelayRefusal as refusal:
            status, answer = refusal.status, refusal.body
        # RFC 6749 section 5.1: token responses are never cached.
        return JSONResponse(answer, status_code=status, headers=_TOKEN_HEADERS)

    return token


def build_page_app(config: PageConfig, watchdog: Callable[[], str | None]) -> Any:
    """The Starlette app serving the page, its configuration and the administrator's helper.

    Only the files listed here are served (no directory listing, no path from the request).
    ``watchdog`` is polled twice a second; when it names a child that exited, the demo stops.
    """
    import anyio
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    def static(relative: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
        path = config.game_dir / relative

        async def serve(_: Request) -> Response:
            return FileResponse(path, media_type=media_type, headers=_NO_STORE)

        return serve

    async def page_config(_: Request) -> Response:
        return JSONResponse(config.page, headers=_NO_STORE)

    html = "text/html; charset=utf-8"
    routes = [
        Route("/", static("index.html", html)),
        Route("/index.html", static("index.html", html)),
        Route("/style.css", static("style.css", "text/css; charset=utf-8")),
        Route("/dist/game.js", static("dist/game.js", "text/javascript; charset=utf-8")),
        Route("/config.json", page_config),
        Route("/admin/decode", _decoder(config), methods=["POST"]),
    ]
    if config.token_relay is not None:
        routes.append(
            Route(_RELAY_PATH, _token_relay(config, config.token_relay), methods=["POST"])
        )
    if config.relay:
        relay = _relay(config.webfed_url)
        routes += [
            Route("/cognito-identity", relay, methods=["POST"]),
            Route("/cognito-identity/", relay, methods=["POST"]),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def watch() -> None:
            while True:
                await anyio.sleep(0.5)
                gone = watchdog()
                if gone is not None:
                    click.echo(f"webfed demo: {gone}; stopping.", err=True)
                    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own shutdown, then ours
                    return

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch)
            yield
            tasks.cancel_scope.cancel()

    return Starlette(routes=routes, lifespan=lifespan)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``_Interrupted`` (uvicorn re-raises them after its shutdown)."""
    previous = {
        sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _page_settings(
    ports: Ports,
    game: GameFile,
    endpoints: ProviderEndpoints,
    relay: bool,
    provider: Provider | None = None,
) -> dict[str, Any]:
    """The page's config.json (described in examples/game/src/config.js).

    With a client secret, the page's token requests go to the demo's token relay, which adds
    the secret; the secret itself is never in config.json.
    """
    origin = ports.url("game")
    token_endpoint = endpoints.token_endpoint
    if provider is not None and provider.client_secret is not None:
        token_endpoint = f"{origin}{_RELAY_PATH}"
    return {
        "region": game.region,
        "identityPoolId": game.pool_id,
        "webfedEndpoint": ports.url("webfed"),
        "cognitoIdentityEndpoint": f"{origin}/cognito-identity" if relay else ports.url("webfed"),
        "s3Endpoint": ports.url("s3"),
        "dynamodbEndpoint": ports.url("dynamodb"),
        "bucket": BUCKET,
        "table": TABLE,
        "oidc": {
            "issuer": game.issuer,
            "authorizationEndpoint": endpoints.authorization_endpoint,
            "tokenEndpoint": token_endpoint,
            "clientId": game.client_id,
            "loginKey": game.login_key,
            "scope": provider.scope if provider is not None else _DEFAULT_SCOPE,
        },
        "adminDecodeUrl": "/admin/decode",
    }


def _issuer_networks(provider: Provider | None) -> dict[str, str]:
    """Where webfed may fetch the provider's keys from, besides public addresses.

    webfed refuses loopback and private addresses by default (its guard against requests into
    its own network). The development provider is on 127.0.0.1: exactly that is allowed. A
    provider of ``--oidc-issuer`` on loopback gets loopback; one on a private network needs
    ``WEBFED_ISSUER_ALLOWED_NETWORKS`` in the demo's environment, passed on as it is.
    """
    if provider is None:
        return {"WEBFED_ISSUER_ALLOWED_NETWORKS": f"{HOST}/32"}
    given = os.environ.get("WEBFED_ISSUER_ALLOWED_NETWORKS", "")
    networks = [entry.strip() for entry in given.split(",") if entry.strip()]
    if provider.on_loopback:
        networks += ["127.0.0.0/8", "::1/128"]
    return {"WEBFED_ISSUER_ALLOWED_NETWORKS": ",".join(networks)} if networks else {}


def _serve_argv(ports: Ports, data_dir: Path, provider: Provider | None) -> list[str]:
    """``webfed serve``: with the development provider, unless another one is configured."""
    serve = [sys.executable, "-m", "webfed", "serve"]
    if provider is None:
        serve += ["--dev-idp", "--allow-http-issuers"]
    elif provider.issuer.startswith("http://"):
        serve += ["--allow-http-issuers"]
    return [*serve, "--host", HOST, "--port", str(ports.webfed), "--data-dir", str(data_dir)]


def _start_services(
    processes: Processes,
    ports: Ports,
    data_dir: Path,
    game: GameFile,
    provider: Provider | None = None,
) -> None:
    """moto, webfed, the bucket and table, the two gateways: each up before the next needs it."""
    python = sys.executable
    # The gateways answer CORS for the page; an upstream must add no CORS headers of its own
    # (docs/gateway.md), and moto adds them to every response unless told not to.
    moto = processes.start(
        "moto",
        [python, "-m", "moto.server", "-H", HOST, "-p", str(ports.moto)],
        {"MOTO_DISABLE_GLOBAL_CORS": "true"},
    )
    serve = _serve_argv(ports, data_dir, provider)
    allow = _issuer_networks(provider)
    webfed = processes.start("webfed", [*serve, "--config", str(game.path)], allow)
    processes.wait_healthy(moto, f"{ports.url('moto')}/moto-api/data.json")
    processes.wait_healthy(webfed, f"{ports.url('webfed')}/healthz")
    upstream_key_id = "AKIA" + secrets.token_hex(8).upper()
    upstream_secret = secrets.token_urlsafe(30)
    _create_upstream_resources(ports.url("moto"), game.region, upstream_key_id, upstream_secret)
    gateway_env = {
        "WEBFED_UPSTREAM_ACCESS_KEY_ID": upstream_key_id,
        "WEBFED_UPSTREAM_SECRET_ACCESS_KEY": upstream_secret,
        "WEBFED_UPSTREAM_REGION": game.region,
    }
    started = []
    for service in ("s3", "dynamodb"):
        argv = [python, "-m", "webfed", "gateway", service, "--data-dir", str(data_dir)]
        argv += ["--listen", f"{HOST}:{getattr(ports, service)}", "--upstream", ports.url("moto")]
        argv += ["--cors-origin", ports.url("game")]
        started.append((service, processes.start(f"gateway-{service}", argv, gateway_env)))
    for service, gateway in started:
        processes.wait_healthy(gateway, f"{ports.url(service)}/__webfed/healthz")


@dataclass(frozen=True)
class SignIn:
    """The provider of ``--oidc-issuer`` and its discovered endpoints."""

    provider: Provider
    endpoints: ProviderEndpoints


def run_demo(ports: Ports, data_dir: Path, game_dir: Path, sign_in: SignIn | None = None) -> None:
    """Starts everything, serves the page until a signal, stops everything.

    The ports are claimed first: with one taken, nothing is written or started.
    """
    listener = _claim_ports(ports)
    try:
        _run(listener, ports, data_dir, game_dir, sign_in)
    finally:
        listener.close()


def _token_relay_of(ports: Ports, sign_in: SignIn | None) -> TokenRelay | None:
    if sign_in is None or sign_in.provider.client_secret is None:
        return None
    assert sign_in.endpoints.client_authentication is not None  # discovered with the secret
    origin = ports.url("game")
    return TokenRelay(
        token_endpoint=sign_in.endpoints.token_endpoint,
        client_id=sign_in.provider.client_id,
        client_secret=sign_in.provider.client_secret,
        client_authentication=sign_in.endpoints.client_authentication,
        redirect_uris=(f"{origin}/", f"{origin}/index.html"),  # the page's redirectUri()
    )


def _run(
    listener: socket.socket,
    ports: Ports,
    data_dir: Path,
    game_dir: Path,
    sign_in: SignIn | None,
) -> None:
    from webfed.admin import load_or_create_admin_credentials

    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir.resolve()
    provider = sign_in.provider if sign_in is not None else None
    game = render_game_file(
        game_dir / "webfed.yaml", data_dir / "game-webfed.yaml", ports.webfed, provider
    )
    admin, _ = load_or_create_admin_credentials(data_dir, None, None)
    processes = Processes(data_dir / "logs", _child_env())
    failures: list[str] = []

    def watchdog() -> str | None:
        gone = _exited(processes)
        if gone is not None:
            failures.append(gone)
        return gone

    with _interruptible():
        try:
            click.echo(f"webfed demo: starting (logs in {processes.log_dir})", err=True)
            _start_services(processes, ports, data_dir, game, provider)
            endpoints = sign_in.endpoints if sign_in is not None else _dev_endpoints(game)
            relay = not _main_listener_allows(ports.url("game"), ports.url("webfed"))
            page = PageConfig(
                game_dir=game_dir,
                page_origin=ports.url("game"),
                webfed_url=ports.url("webfed"),
                page=_page_settings(ports, game, endpoints, relay, provider),
                admin_key_id=admin.access_key_id,
                admin_secret=admin.secret_access_key,
                relay=relay,
                token_relay=_token_relay_of(ports, sign_in),
            )
            app = build_page_app(page, watchdog)
            _serve_page(app, listener, ports, data_dir, relay, sign_in)
        except _Interrupted:
            pass
        finally:
            click.echo("webfed demo: stopping", err=True)
            processes.stop()
            click.echo("webfed demo: stopped", err=True)
    if failures:
        raise DemoError(failures[0])


def _exited(processes: Processes) -> str | None:
    child = processes.first_exited()
    if child is None:
        return None
    return f"{child.name} exited with code {child.process.returncode} (see {child.log_path})"


def _claim_ports(ports: Ports) -> socket.socket:
    """Fails at once, naming the port, when one is taken; the page's own socket, listening.

    The page's socket is bound before anything starts, so "ready" is never printed for a
    port something else holds, and connections made right after it queue until uvicorn
    accepts them.
    """
    for name, port in vars(ports).items():
        if name == "game":
            continue
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError as error:
                raise DemoError(f"{HOST}:{port} ({name}) is not free: {error.strerror}") from error
    listener = socket.socket()
    try:
        listener.bind((HOST, ports.game))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise DemoError(f"{HOST}:{ports.game} (game) is not free: {error.strerror}") from error
    return listener


def _serve_page(
    app: Any,
    listener: socket.socket,
    ports: Ports,
    data_dir: Path,
    relay: bool,
    sign_in: SignIn | None = None,
) -> None:
    import uvicorn

    # No access log: the token relay's requests carry authorization codes.
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    webfed = "webfed (STS, IAM, Cognito Identity, dev IdP)"
    if sign_in is not None:
        webfed = "webfed (STS, IAM, Cognito Identity)"
    lines = [
        f"  {webfed:<44}  {ports.url('webfed')}",
        f"  S3 gateway                                    {ports.url('s3')}",
        f"  DynamoDB gateway                              {ports.url('dynamodb')}",
        f"  moto (the upstream, in memory)                {ports.url('moto')}",
        f"  administrator credentials                     {data_dir / 'admin-credentials'}"
        " (profile webfed)",
    ]
    if sign_in is not None:
        lines.append(_provider_line(sign_in))
    if relay:
        lines.append(
            "  (webfed answers no CORS preflight: the page reaches Cognito Identity through "
            "its own /cognito-identity)"
        )
    click.echo("\n".join(lines), err=True)
    # One line on standard output, for scripts and tests waiting for the demo.
    click.echo(f"webfed demo ready: {ports.url('game')}/")
    sys.stdout.flush()
    server.run(sockets=[listener])


def _provider_line(sign_in: SignIn) -> str:
    provider = sign_in.provider
    how = "the page calls its token endpoint"
    if provider.client_secret is not None:
        method = sign_in.endpoints.client_authentication
        how = f"token requests through the page's {_RELAY_PATH}, with the client secret ({method})"
    return (
        f"  {'OpenID provider':<44}  {provider.issuer}\n"
        f"  {'':<44}  client {provider.client_id}; {how}"
    )


def _port_option(name: str, what: str) -> Callable[[_F], _F]:
    return click.option(
        f"--{name}-port" if name != "webfed" else "--port",
        f"{name}_port",
        type=click.IntRange(1, 65535),
        default=DEFAULT_PORTS[name],
        show_default=True,
        help=what,
    )


@click.command()
@_port_option("webfed", "webfed serve (STS, IAM, Cognito Identity, the dev IdP).")
@_port_option("s3", "The S3 gateway.")
@_port_option("dynamodb", "The DynamoDB gateway.")
@_port_option("game", "The game page.")
@_port_option("moto", "moto_server, the upstream S3 and DynamoDB.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-data"),
    show_default=True,
    help="webfed's database, keys, admin credentials and the logs.",
)
@click.option(
    "--game-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The game example (default: examples/game of the repository).",
)
@click.option(
    "--oidc-issuer",
    metavar="URL",
    help="Sign players in with this OpenID provider instead of the dev IdP "
    "(https://, or http:// on loopback).",
)
@click.option("--oidc-client-id", metavar="ID", help="The page's client id at that provider.")
@click.option("--oidc-scope", help=f"The scope asked for.  [default: {_DEFAULT_SCOPE}]")
@click.option(
    "--oidc-login-key",
    metavar="KEY",
    help="The pool's Logins key for the provider.  [default: the issuer without https://]",
)
@click.option(
    "--oidc-client-secret-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The client's secret (one line): the page's token requests then go through the "
    "demo, which adds it; it never reaches the browser.",
)
def demo(
    webfed_port: int,
    s3_port: int,
    dynamodb_port: int,
    game_port: int,
    moto_port: int,
    data_dir: Path,
    game_dir: Path | None,
    oidc_issuer: str | None,
    oidc_client_id: str | None,
    oidc_scope: str | None,
    oidc_login_key: str | None,
    oidc_client_secret_file: Path | None,
) -> None:
    """Run the game example: webfed, its dev IdP, S3/DynamoDB gateways, moto and the page."""
    ports = Ports(webfed_port, s3_port, dynamodb_port, game_port, moto_port)
    if len(set(vars(ports).values())) != len(vars(ports)):
        raise click.UsageError("every port must be different")
    provider = provider_from_options(
        oidc_issuer, oidc_client_id, oidc_scope, oidc_login_key, oidc_client_secret_file
    )
    try:
        import moto  # noqa: F401
    except ImportError as error:
        raise DemoError("moto is needed: pip install 'webfed[demo]'") from error
    game = find_game_dir(game_dir)
    # The provider answers before anything starts: a typo in its URL stops the demo here.
    sign_in = SignIn(provider, discover_provider(provider)) if provider is not None else None
    run_demo(ports, data_dir, game, sign_in)
