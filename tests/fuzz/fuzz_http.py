"""Fuzz the whole HTTP front door in-process: the ASGI app, lifespan-started, on a temp SQLite.

The app is the one ``webfed serve`` runs (``AwsFrontDoor(create_app(...))``), started through
its ASGI lifespan with a fresh database, master key and admin credentials. Issuer keys are
fetched through an in-process transport that serves one issuer (``fuzz_jwt.ISSUER``, with
``fuzz_jwt.KEYS``) and refuses every other host, so nothing leaves the process. At start an
OIDC provider for that issuer and a role trusting it are created through the API itself.

Three shapes of input, chosen by the first byte:

0. **AWS call**: a protocol (Query POST, Query GET, JSON 1.1), a service and, optionally, one
   of its operations (named in ``Action``/``X-Amz-Target``), up to three extra headers, a
   signing choice (unsigned, signed by the administrator with botocore, signed with an unknown
   key) and the parameters/body.
1. **web identity**: ``AssumeRoleWithWebIdentity`` for the fuzz role with a token the harness
   signs with the issuer's keys over fuzzed header and payload bytes, a fuzzed session name,
   duration and session policy: the whole federation path to minted credentials.
2. **raw**: a raw HTTP request (any method, path, headers, body), for every route.

The rule: no response is a 5xx; an AWS call (``GET``/``POST /``) that fails is answered with
the protocol's AWS error (Query ``<ErrorResponse>`` with a ``<Code>``, or JSON with
``__type``) and an ``x-amzn-RequestId``; no response repeats the administrator's secret key or
the web identity token it was sent.

Run: ``.venv/bin/python tests/fuzz/fuzz_http.py -runs=1000000 tests/fuzz/corpus/http``.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import urllib.parse
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc.jws import JWSRegistry
from pydantic import SecretStr

from tests.fuzz._common import FuzzFailure, Input, RawHttp, instrumented, main
from tests.fuzz.fuzz_jwt import CLIENT_IDS, ISSUER, KEYS
from tests.support.tokens import jwks_document

with instrumented(__name__ == "__main__"):
    from webfed.admin import AdminCredentials
    from webfed.http.app import create_app
    from webfed.http.front import AwsFrontDoor
    from webfed.jwks import IssuerKeyCache, JwksSettings
    from webfed.logs import configure_logging
    from webfed.protocol.models import load_service
    from webfed.settings import Settings
    from webfed.storage import migrate

__all__ = ["ACCOUNT", "ROLE_ARN", "SERVICES", "Response", "call", "check", "shutdown"]

ACCOUNT = "123456789012"
HOST = "127.0.0.1:8700"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fuzz-web"
ADMIN = AdminCredentials("AKIAFUZZADMIN0000000", "fuzz/admin/secret/key/0000000000000000000")
OUTSIDER = Credentials("AKIAUNKNOWN000000000", "not-a-known-secret")
#: (service, protocol) in the order the input names them.
SERVICES = (("sts", "query"), ("iam", "query"), ("cognito-identity", "json"))
OPERATIONS = {name: tuple(sorted(load_service(name).operations)) for name, _ in SERVICES}
HEADER_NAMES = (
    "content-type",
    "x-amz-target",
    "x-amz-date",
    "x-amz-security-token",
    "authorization",
    "content-length",
    "x-amz-content-sha256",
    "x-forwarded-for",
    "transfer-encoding",
    "host",
)
#: Run as the fuzzing script (not imported by the replay test).
_FUZZING = __name__ == "__main__"
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~")


@dataclass(slots=True)
class Response:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


# --- the app, started once per process ---------------------------------------------------------


def _issuer_transport() -> httpx.MockTransport:
    discovery = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
    documents = {
        "/.well-known/openid-configuration": discovery,
        "/jwks": jwks_document(*KEYS),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        document = documents.get(request.url.path)
        if f"{request.url.scheme}://{request.url.host}" != ISSUER or document is None:
            return httpx.Response(404)
        return httpx.Response(200, json=document, headers={"cache-control": "max-age=3600"})

    return httpx.MockTransport(answer)


_DIRECTORY_PREFIX = "webfed-fuzz-http-"


def _remove_stale_directories() -> None:
    """Remove data directories left by harness processes that have ended: libFuzzer ends a
    process without running ``atexit`` handlers, so :func:`shutdown` does not always run."""
    for directory in Path(tempfile.gettempdir()).glob(f"{_DIRECTORY_PREFIX}*-*"):
        pid = directory.name.removeprefix(_DIRECTORY_PREFIX).split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(directory, ignore_errors=True)
        except PermissionError:
            continue  # alive, another user's


class _App:
    """The lifespan-started app on its own event loop and temporary data directory."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        _remove_stale_directories()
        self.directory = Path(tempfile.mkdtemp(prefix=f"{_DIRECTORY_PREFIX}{os.getpid()}-"))
        settings = Settings(
            data_dir=self.directory,
            account_id=ACCOUNT,
            log_format="json",
            log_level="error",
            master_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
        )
        if _FUZZING:  # a test session keeps its own logging configuration
            configure_logging(settings.log_format, settings.log_level)
        migrate(settings.effective_database_url)
        self.door = AwsFrontDoor(create_app(settings, ADMIN))
        self._lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._lifespan_out: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self._lifespan = self.loop.create_task(self._run_lifespan())
        started = self.loop.run_until_complete(self._lifespan_message("lifespan.startup"))
        if started["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {started}")
        runtime = self.door.app.state.runtime
        self.loop.run_until_complete(runtime.jwks.aclose())
        runtime.jwks = IssuerKeyCache(JwksSettings(), transport=_issuer_transport())
        self._create_fixtures()

    async def _run_lifespan(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        await self.door(scope, self._lifespan_in.get, self._lifespan_out.put)

    async def _lifespan_message(self, event: str) -> MutableMapping[str, Any]:
        await self._lifespan_in.put({"type": event})
        return await self._lifespan_out.get()

    def _create_fixtures(self) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/issuer.example.com"
                    },
                    "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
                    "Condition": {"StringEquals": {"issuer.example.com:aud": "client-1"}},
                }
            ],
        }
        for params in (
            {
                "Action": "CreateOpenIDConnectProvider",
                "Url": ISSUER,
                "ClientIDList.member.1": CLIENT_IDS[0],
                "ClientIDList.member.2": CLIENT_IDS[1],
                "ThumbprintList.member.1": "a" * 40,
            },
            {
                "Action": "CreateRole",
                "RoleName": "fuzz-web",
                "AssumeRolePolicyDocument": json.dumps(trust),
            },
        ):
            body = urllib.parse.urlencode({**params, "Version": "2010-05-08"}).encode()
            headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
            signed = _signed("POST", "", headers, body, "iam", _admin_credentials())
            response = self.send(RawHttp("POST", "/", "", tuple(signed), body))
            if response.status != 200:
                raise RuntimeError(
                    f"fixture {params['Action']}: {response.status} {response.body!r}"
                )

    def send(self, raw: RawHttp) -> Response:
        """One exchange; headers an HTTP/1.1 server would refuse are dropped, Host added."""
        headers = tuple((n, v) for n, v in raw.headers if _valid_header(n, v))
        if not any(name.lower() == "host" for name, _ in headers):
            headers = (("host", HOST), *headers)
        cleaned = RawHttp(raw.method, raw.raw_path, raw.raw_query, headers, raw.body)
        return self.loop.run_until_complete(_exchange(self.door, cleaned))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.run_until_complete(self._lifespan_message("lifespan.shutdown"))
        self.loop.run_until_complete(self._lifespan)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        shutil.rmtree(self.directory, ignore_errors=True)


_STARTED: list[_App] = []


def _app() -> _App:
    if not _STARTED:
        _STARTED.append(_App())
        atexit.register(shutdown)
    return _STARTED[0]


def shutdown() -> None:
    """Stop the app (lifespan shutdown) and remove its data directory."""
    while _STARTED:
        _STARTED.pop().close()


def _admin_credentials() -> Credentials:
    return Credentials(ADMIN.access_key_id, ADMIN.secret_access_key)


# --- one request --------------------------------------------------------------------------------


def _scope(raw: RawHttp) -> dict[str, Any]:
    raw_path = raw.raw_path.encode("utf-8", "surrogateescape")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": raw.method,
        "scheme": "http",
        "path": urllib.parse.unquote(raw.raw_path, errors="surrogateescape"),
        "raw_path": raw_path,
        "query_string": raw.raw_query.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("utf-8", "surrogateescape"))
            for name, value in raw.headers
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8700),
        "state": {},
    }


async def _exchange(door: AwsFrontDoor, raw: RawHttp) -> Response:
    response = Response()
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": raw.body, "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected until the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            response.body += message.get("body", b"")

    await door(_scope(raw), receive, send)
    return response


def _valid_header(name: str, value: str) -> bool:
    """What an HTTP/1.1 server hands on: token names, values without CR, LF or NUL."""
    return (
        bool(name)
        and set(name.lower()) <= _TOKEN_CHARS
        and not any(c in value for c in "\r\n\0")
        and value.isascii()
    )


def call(raw: RawHttp) -> Response:
    """Send ``raw`` through the app (started on first use) and return its response."""
    return _app().send(raw)


def _signed(
    method: str,
    query_string: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    service: str,
    credentials: Credentials,
) -> list[tuple[str, str]]:
    url = f"http://{HOST}/" + (f"?{query_string}" if query_string else "")
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers.add_header(name, value)
    SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return [(name, value) for name, value in request.headers.items()]


def _target(text: bytes) -> str:
    """Fuzzed bytes as a request-target query, encoded the way a client must send it."""
    return urllib.parse.quote_from_bytes(text, safe="!$&'()*+,;=:@/?%-._~")


def _form_target(text: bytes) -> str:
    """Form fields as a query every signer canonicalises alike: names and values encoded, all
    but the unreserved characters (and fuzzed ``%`` escapes) percent-encoded. botocore signs a
    query it is handed as it stands, while SigV4 (and webfed) canonicalises each decoded name
    and value; a raw ``:`` would make the two disagree and every such call fail its signature.
    """
    return "&".join(
        "=".join(urllib.parse.quote_from_bytes(part, safe="-_.~%") for part in pair.split(b"=", 1))
        for pair in text.split(b"&")
    )


def _aws_call(reader: Input) -> RawHttp:
    service, protocol = reader.pick(SERVICES)
    get = protocol == "query" and reader.boolean()
    operation = reader.pick(OPERATIONS[service]) if reader.boolean() else None
    signing = reader.int_in(0, 2)
    headers: list[tuple[str, str]] = []
    for _ in range(reader.int_in(0, 3)):
        name = reader.pick(HEADER_NAMES) if reader.boolean() else reader.text(32)
        headers.append((name, reader.text(256)))
    payload = reader.rest()
    if protocol == "json":
        headers.insert(0, ("content-type", "application/x-amz-json-1.1"))
        if operation is not None:
            headers.insert(0, ("x-amz-target", f"AWSCognitoIdentityService.{operation}"))
        query_string, body, method = "", payload, "POST"
    else:
        if operation is not None:
            version = load_service(service).meta.api_version
            payload = f"Action={operation}&Version={version}&".encode() + payload
        if get:
            encode = _form_target if signing else _target
            query_string, body, method = encode(payload), b"", "GET"
        else:
            headers.insert(0, ("content-type", "application/x-www-form-urlencoded"))
            query_string, body, method = "", payload, "POST"
    headers = [(n, v) for n, v in headers if _valid_header(n, v)]
    if signing:
        credentials = _admin_credentials() if signing == 1 else OUTSIDER
        with contextlib.suppress(ValueError, UnicodeError):  # botocore cannot sign: unsigned
            headers = _signed(method, query_string, headers, body, service, credentials)
    return RawHttp(method, "/", query_string, tuple(headers), body)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _web_identity(reader: Input) -> RawHttp:
    key = reader.pick(KEYS)
    header = reader.chunk(2048)
    payload = reader.chunk(8192)
    params = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": ROLE_ARN,
        "RoleSessionName": reader.text(128),
    }
    signing_input = f"{_b64url(header)}.{_b64url(payload)}"
    signature = JWSRegistry.algorithms[key.algorithm].sign(signing_input.encode(), key.private)
    params["WebIdentityToken"] = f"{signing_input}.{_b64url(signature)}"
    if reader.boolean():
        params["DurationSeconds"] = reader.text(16)
    if reader.boolean():
        params["Policy"] = reader.text(4096)
    body = urllib.parse.urlencode(params).encode() + reader.rest()
    headers = (("content-type", "application/x-www-form-urlencoded"),)
    return RawHttp("POST", "/", "", headers, body)


def _raw(reader: Input) -> RawHttp:
    raw = RawHttp.parse(reader.rest())
    path = _target(raw.raw_path.encode("utf-8", "surrogateescape")) or "/"
    path = path if path.startswith("/") else f"/{path}"
    query_string = _target(raw.raw_query.encode("utf-8", "surrogateescape"))
    method = raw.method if raw.method and set(raw.method.lower()) <= _TOKEN_CHARS else "GET"
    return RawHttp(method, path, query_string, raw.headers, raw.body)


def _is_aws_error(response: Response) -> bool:
    if response.headers.get("content-type", "").startswith("application/x-amz-json"):
        try:
            document = json.loads(response.body)
        except ValueError:
            return False
        return isinstance(document, dict) and isinstance(document.get("__type"), str)
    return b"<ErrorResponse" in response.body and b"<Code>" in response.body


def check(data: bytes) -> None:
    """Send one fuzzed request through the app; raise on a 5xx or a non-AWS error answer."""
    reader = Input(data)
    mode = reader.int_in(0, 2)
    raw = (_aws_call, _web_identity, _raw)[mode](reader)
    response = call(raw)
    if ADMIN.secret_access_key.encode() in response.body:
        raise FuzzFailure("a response carries the administrator's secret key")
    if mode == 1:
        form = urllib.parse.parse_qs(raw.body.decode("utf-8", "replace"))
        signature = form.get("WebIdentityToken", [""])[0].rsplit(".", 1)[-1]
        if len(signature) >= 16 and signature.encode() in response.body:
            raise FuzzFailure("a response repeats the web identity token")
    if response.status >= 500:
        raise FuzzFailure(
            f"{raw.method} {raw.raw_path} answered {response.status}: {response.body[:300]!r}"
        )
    aws_call = raw.raw_path == "/" and raw.method in ("GET", "POST")
    if aws_call and response.status >= 400:
        if not _is_aws_error(response):
            raise FuzzFailure(f"an AWS call failed without an AWS error: {response.body[:300]!r}")
        if "x-amzn-requestid" not in response.headers:
            raise FuzzFailure("an AWS error without x-amzn-RequestId")


if __name__ == "__main__":
    main(check)
