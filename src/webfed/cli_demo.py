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

Ctrl-C or SIGTERM stops everything (the children are asked to stop, then killed after ten
seconds; on Linux they are also told to stop should the demo itself die). See docs/demo.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, TypeVar

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
        return self.issuer.split("://", 1)[1]


def render_game_file(source: Path, target: Path, webfed_port: int) -> GameFile:
    """Writes the example's declarative file for a webfed on ``webfed_port``.

    The file names the development provider by its URL, which contains webfed's address; when
    the demo runs on another port, every ``127.0.0.1:8700`` becomes ``127.0.0.1:PORT``.
    """
    text = source.read_text(encoding="utf-8")
    text = text.replace(_FILE_ADDRESS, f"{HOST}:{webfed_port}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    document = yaml.safe_load(text)
    try:
        pool = document["identity_pools"][0]
        issuer = next(
            provider["url"]
            for provider in document["providers"]
            if str(provider["url"]).endswith("/dev-idp")
        )
        client_id = next(
            provider["client_ids"][0]
            for provider in document["providers"]
            if provider["url"] == issuer
        )
        pool_id = str(pool["id"])
    except (KeyError, IndexError, TypeError, StopIteration) as error:
        raise DemoError(
            f"{source}: expected an identity pool with an id and the /dev-idp provider "
            f"with a client id ({error!r})"
        ) from error
    region = pool_id.split(":", 1)[0]
    return GameFile(target, pool_id, region, str(issuer), str(client_id))


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

    host = config.page_origin.split("://", 1)[1]

    async def decode(request: Request) -> Response:
        # The administrator's helper answers the page itself only: it reveals why a request
        # was refused, which AWS keeps from the caller on purpose. So: a loopback client; the
        # page's own Host (another name resolving to 127.0.0.1 is DNS rebinding); no foreign
        # Origin; and a JSON body, which a cross-site form cannot send without a preflight.
        client = request.client
        origin = request.headers.get("origin")
        if (
            client is None
            or client.host not in ("127.0.0.1", "::1")
            or request.headers.get("host") != host
            or (origin is not None and origin != config.page_origin)
        ):
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
    ports: Ports, game: GameFile, discovery: dict[str, Any], relay: bool
) -> dict[str, Any]:
    """The page's config.json (described in examples/game/src/config.js)."""
    origin = ports.url("game")
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
            "authorizationEndpoint": discovery["authorization_endpoint"],
            "tokenEndpoint": discovery["token_endpoint"],
            "clientId": game.client_id,
            "loginKey": game.login_key,
            "scope": "openid profile",
        },
        "adminDecodeUrl": "/admin/decode",
    }


def _start_services(processes: Processes, ports: Ports, data_dir: Path, game: GameFile) -> None:
    """moto, webfed, the bucket and table, the two gateways: each up before the next needs it."""
    python = sys.executable
    # The gateways answer CORS for the page; an upstream must add no CORS headers of its own
    # (docs/gateway.md), and moto adds them to every response unless told not to.
    moto = processes.start(
        "moto",
        [python, "-m", "moto.server", "-H", HOST, "-p", str(ports.moto)],
        {"MOTO_DISABLE_GLOBAL_CORS": "true"},
    )
    serve = [python, "-m", "webfed", "serve", "--dev-idp", "--allow-http-issuers"]
    serve += ["--host", HOST, "--port", str(ports.webfed), "--data-dir", str(data_dir)]
    # The provider's keys are fetched from loopback, which webfed refuses by default (its
    # guard against requests into its own network): allow exactly that address.
    allow = {"WEBFED_ISSUER_ALLOWED_NETWORKS": f"{HOST}/32"}
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


def run_demo(ports: Ports, data_dir: Path, game_dir: Path) -> None:
    """Starts everything, serves the page until a signal, stops everything.

    The ports are claimed first: with one taken, nothing is written or started.
    """
    listener = _claim_ports(ports)
    try:
        _run(listener, ports, data_dir, game_dir)
    finally:
        listener.close()


def _run(listener: socket.socket, ports: Ports, data_dir: Path, game_dir: Path) -> None:
    from webfed.admin import load_or_create_admin_credentials

    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir.resolve()
    game = render_game_file(game_dir / "webfed.yaml", data_dir / "game-webfed.yaml", ports.webfed)
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
            _start_services(processes, ports, data_dir, game)
            discovery = _discover(game.issuer)
            relay = not _main_listener_allows(ports.url("game"), ports.url("webfed"))
            page = PageConfig(
                game_dir=game_dir,
                page_origin=ports.url("game"),
                webfed_url=ports.url("webfed"),
                page=_page_settings(ports, game, discovery, relay),
                admin_key_id=admin.access_key_id,
                admin_secret=admin.secret_access_key,
                relay=relay,
            )
            _serve_page(build_page_app(page, watchdog), listener, ports, data_dir, relay)
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
    app: Any, listener: socket.socket, ports: Ports, data_dir: Path, relay: bool
) -> None:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    lines = [
        f"  webfed (STS, IAM, Cognito Identity, dev IdP)  {ports.url('webfed')}",
        f"  S3 gateway                                    {ports.url('s3')}",
        f"  DynamoDB gateway                              {ports.url('dynamodb')}",
        f"  moto (the upstream, in memory)                {ports.url('moto')}",
        f"  administrator credentials                     {data_dir / 'admin-credentials'}"
        " (profile webfed)",
    ]
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
def demo(
    webfed_port: int,
    s3_port: int,
    dynamodb_port: int,
    game_port: int,
    moto_port: int,
    data_dir: Path,
    game_dir: Path | None,
) -> None:
    """Run the game example: webfed, its dev IdP, S3/DynamoDB gateways, moto and the page."""
    ports = Ports(webfed_port, s3_port, dynamodb_port, game_port, moto_port)
    if len(set(vars(ports).values())) != len(vars(ports)):
        raise click.UsageError("every port must be different")
    try:
        import moto  # noqa: F401
    except ImportError as error:
        raise DemoError("moto is needed: pip install 'webfed[demo]'") from error
    run_demo(ports, data_dir, find_game_dir(game_dir))
