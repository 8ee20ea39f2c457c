"""The development OpenID provider through a real ``webfed serve --dev-idp``, as clients see it.

The whole authorization code flow runs over HTTP with httpx (the sign-in page's form read from
its HTML, the redirect followed by hand), the ID token is verified with joserfc alone from the
published JWK Set, and then exchanged through boto3 ``AssumeRoleWithWebIdentity`` after the
administrator registered the provider like any other issuer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.integration.conftest import WebfedServer

CLIENT_ID = "game-web"
REDIRECT = "http://127.0.0.1:5173/callback?from=dev"
LISTED_REDIRECT = "https://game.example.test/after-sign-in"
DEFAULT_CLAIMS = {"team": "blue", "groups": ["players"]}
BODY_TIMEOUT = 2
DISCONNECTED = "dev-idp client disconnected before sending the body"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebfedServer]:
    """One server for the module: SQLite is enough here (the key store runs on PostgreSQL
    too in ``tests/unit/devidp/test_keys.py``)."""
    instance = WebfedServer(
        tmp_path_factory.mktemp("webfed-dev-idp"),
        None,
        {
            "WEBFED_DEV_IDP": "true",
            "WEBFED_ALLOW_HTTP_ISSUERS": "true",
            # The issuer key fetch reaches loopback only when allowed (the SSRF guard).
            "WEBFED_ISSUER_ALLOWED_NETWORKS": "127.0.0.0/8",
            "WEBFED_DEV_IDP_CLAIMS": json.dumps(DEFAULT_CLAIMS),
            "WEBFED_DEV_IDP_REDIRECT_URIS": LISTED_REDIRECT,
            # Short, so that the slow-body test waits little (the default is 30 seconds).
            "WEBFED_REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        },
    )
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def issuer(server: WebfedServer) -> str:
    return f"{server.url}/dev-idp"


class _Form(HTMLParser):
    """The sign-in page's form: its action, inputs, and the ids present."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "form":
            self.action = attributes["action"]
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes["value"]


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _authorize_params(challenge: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid profile email",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def _query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def _sign_in(
    issuer: str, challenge: str, username: str = "alice", claims: str = "", **overrides: str | None
) -> httpx.Response:
    """GET the page, submit its form as a browser would; the answer (not followed)."""
    page = httpx.get(f"{issuer}/authorize", params=_authorize_params(challenge, **overrides))
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)
    assert {"username", "claims", "sign-in"} <= form.ids
    data = {**form.fields, "username": username, "claims": claims, "decision": "sign-in"}
    return httpx.post(form.action, data=data, follow_redirects=False)


def _code(issuer: str, challenge: str, **overrides: str | None) -> str:
    answer = _sign_in(issuer, challenge, **overrides)
    assert answer.status_code == 303, answer.text
    return _query(answer.headers["location"])["code"]


def _token(issuer: str, **form: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT}
    return httpx.post(f"{issuer}/token", data={**data, **form})


def _keys(issuer: str) -> KeySet:
    return KeySet.import_key_set(httpx.get(f"{issuer}/jwks.json").json())


def test_discovery_and_jwks(issuer: str) -> None:
    response = httpx.get(f"{issuer}/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["issuer"] == issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("jwks_uri", "/jwks.json"),
        ("userinfo_endpoint", "/userinfo"),
    ]:
        assert document[name] == issuer + path
    assert document["response_types_supported"] == ["code"]
    assert document["grant_types_supported"] == ["authorization_code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["subject_types_supported"] == ["public"]
    assert set(document["scopes_supported"]) == {"openid", "profile", "email"}

    jwks = httpx.get(document["jwks_uri"])
    assert jwks.status_code == 200
    assert jwks.headers["access-control-allow-origin"] == "*"
    (key,) = jwks.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    preflight = httpx.request(
        "OPTIONS",
        f"{issuer}/token",
        headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_code_flow_with_pkce(issuer: str) -> None:
    verifier, challenge = _pkce()
    params = _authorize_params(challenge)
    answer = _sign_in(issuer, challenge, claims='{"level": 7}', **params)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("http://127.0.0.1:5173/callback?from=dev&")
    returned = _query(location)
    assert returned["state"] == params["state"] and returned["iss"] == issuer

    response = _token(issuer, code=returned["code"], code_verifier=verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid profile email"

    token = jwt.decode(body["id_token"], _keys(issuer), algorithms=["RS256"])
    claims = token.claims
    assert token.header["alg"] == "RS256"
    assert claims["iss"] == issuer and claims["aud"] == CLIENT_ID and claims["sub"] == "alice"
    assert claims["nonce"] == params["nonce"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] - 5 <= claims["auth_time"] <= claims["iat"]
    assert claims["preferred_username"] == claims["name"] == "alice"
    assert claims["email"] == "alice@dev.invalid"
    assert claims["team"] == "blue" and claims["groups"] == ["players"]  # the setting's
    assert claims["level"] == 7  # the page's

    info = httpx.get(
        f"{issuer}/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json()["sub"] == "alice" and info.json()["level"] == 7
    refused = httpx.get(f"{issuer}/userinfo", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_the_same_user_name_is_the_same_subject(issuer: str) -> None:
    subjects = []
    for _ in range(2):
        verifier, challenge = _pkce()
        code = _code(issuer, challenge, nonce=None)
        body = _token(issuer, code=code, code_verifier=verifier).json()
        claims = jwt.decode(body["id_token"], _keys(issuer)).claims
        assert "nonce" not in claims
        subjects.append(claims["sub"])
    assert subjects == ["alice", "alice"]


def test_wrong_verifier_then_reuse(issuer: str) -> None:
    verifier, challenge = _pkce()
    code = _code(issuer, challenge)
    wrong = _token(issuer, code=code, code_verifier=_pkce()[0])
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert wrong.headers["cache-control"] == "no-store"
    assert _token(issuer, code=code, code_verifier=verifier).status_code == 200
    again = _token(issuer, code=code, code_verifier=verifier)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert "already been used" in again.json()["error_description"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"redirect_uri": "http://127.0.0.1:5173/other"}, "invalid_grant"),
        ({"client_id": "another-client"}, "invalid_grant"),
        ({"client_id": ""}, "invalid_client"),
        ({"grant_type": "refresh_token"}, "unsupported_grant_type"),
        ({"code": "bm90LWEtY29kZQ"}, "invalid_grant"),
        ({"code_verifier": ""}, "invalid_request"),
    ],
    ids=["redirect-uri", "client-id", "no-client-id", "grant-type", "forged-code", "no-verifier"],
)
def test_token_requests_refused(issuer: str, form: dict[str, str], error: str) -> None:
    verifier, challenge = _pkce()
    code = _code(issuer, challenge)
    response = _token(issuer, **{"code": code, "code_verifier": verifier, **form})
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert code not in response.text and verifier not in response.text


def test_token_endpoint_needs_a_form(issuer: str) -> None:
    response = httpx.post(f"{issuer}/token", json={"grant_type": "authorization_code"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_client_authentication_is_refused_with_401(issuer: str) -> None:
    """RFC 6749 section 5.2: a client that authenticated with the Authorization header gets
    401 and a challenge; this provider's clients are public (``none``), so any such try fails
    rather than its secret being silently ignored."""
    verifier, challenge = _pkce()
    code = _code(issuer, challenge)
    data = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT}
    response = httpx.post(
        f"{issuer}/token",
        data={**data, "code": code, "code_verifier": verifier},
        auth=(CLIENT_ID, "s3cret-value"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.headers["cache-control"] == "no-store"
    assert "s3cret-value" not in response.text
    # Refused before the code is looked at: it still works without the header.
    assert _token(issuer, code=code, code_verifier=verifier).status_code == 200


def _partial_post(url: str, path: str, wait: float) -> bytes:
    """A form POST that declares 100 bytes and sends 3: what answers within ``wait`` seconds."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    assert host is not None and port is not None
    with socket.create_connection((host, port), timeout=wait) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n"
            "\r\na=b".encode("ascii")
        )
        try:
            return connection.recv(4096)
        except TimeoutError:
            return b""


@pytest.mark.parametrize("path", ["/dev-idp/token", "/dev-idp/authorize"])
def test_a_body_that_never_arrives_times_out(server: WebfedServer, path: str) -> None:
    """The forms are read within ``request_body_timeout_seconds``, as AWS calls are."""
    started = time.monotonic()
    answer = _partial_post(server.url, path, BODY_TIMEOUT + 10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert time.monotonic() - started < BODY_TIMEOUT + 5


def test_a_client_gone_mid_body_is_not_a_server_error(server: WebfedServer) -> None:
    """Each endpoint logs the disconnection once it handled it: the test waits for those
    lines (not a fixed time, which a loaded machine could outlast), then checks the log."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    assert host is not None and port is not None
    paths = ("/dev-idp/token", "/dev-idp/authorize")
    seen_before = server.log().count(DISCONNECTED)
    for path in paths:
        with socket.create_connection((host, port)) as connection:
            connection.sendall(
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n"
                "\r\na=b".encode("ascii")
            )
            time.sleep(0.1)  # the handler is reading the body when the connection closes
    deadline = time.monotonic() + 10
    while server.log().count(DISCONNECTED) < seen_before + len(paths):
        assert time.monotonic() < deadline, server.log()[-2000:]
        time.sleep(0.05)
    log = server.log()
    assert all(path in log for path in paths)
    assert "Traceback" not in log and "ClientDisconnect" not in log
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_code_use_that_cannot_be_recorded_is_a_503_not_a_500(
    server: WebfedServer, issuer: str
) -> None:
    """The used-code directory removed between sweeps is created again; one that cannot be
    (a file in its place) gives RFC 6749 section 5.2 JSON with 503, and the code stays good."""
    used = server.data_dir / "dev-idp-used-codes"
    verifier, challenge = _pkce()
    assert _token(issuer, code=_code(issuer, challenge), code_verifier=verifier).status_code == 200
    shutil.rmtree(used)
    verifier, challenge = _pkce()
    assert _token(issuer, code=_code(issuer, challenge), code_verifier=verifier).status_code == 200
    assert len(list(used.iterdir())) >= 1
    shutil.rmtree(used)
    used.write_bytes(b"")
    try:
        code = _code(issuer, challenge)
        refused = _token(issuer, code=code, code_verifier=verifier)
    finally:
        used.unlink()
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/json"
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused.headers["cache-control"] == "no-store"
    assert _token(issuer, code=code, code_verifier=verifier).status_code == 200
    log = server.log()
    assert "cannot record a used code" in log and "Traceback" not in log
    assert code not in log and verifier not in log


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"prompt": "none"}, "login_required"),
    ],
    ids=["plain", "no-method", "no-challenge", "no-openid", "implicit", "prompt-none"],
)
def test_authorization_errors_go_back_to_the_client(
    issuer: str, overrides: dict[str, str | None], error: str
) -> None:
    params = _authorize_params(_pkce()[1], **overrides)
    response = httpx.get(f"{issuer}/authorize", params=params)
    assert response.status_code == 303
    returned = _query(response.headers["location"])
    assert returned["error"] == error and returned["state"] == params["state"]
    assert response.headers["location"].startswith(REDIRECT + "&")


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://attacker.example/cb"},
        {"redirect_uri": "http://127.0.0.1:5173/cb#fragment"},
        {"redirect_uri": None},
        {"client_id": None},
    ],
    ids=["foreign-host", "fragment", "no-redirect-uri", "no-client-id"],
)
def test_unsafe_requests_are_shown_not_redirected(
    issuer: str, overrides: dict[str, str | None]
) -> None:
    response = httpx.get(f"{issuer}/authorize", params=_authorize_params(_pkce()[1], **overrides))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "NOT for production" in response.text
    assert "attacker.example" not in response.text.split('id="problem"')[0]


def test_authorization_request_by_post(issuer: str) -> None:
    """OpenID Connect Core 3.1.2.1: the authorization endpoint takes the request by POST too;
    with none of the sign-in form's fields, that is the sign-in page, not an error."""
    # With OpenID Connect's own claims parameter (5.5), ignored, not taken for the page's field.
    claims_request = json.dumps({"id_token": {"email": {"essential": True}}})
    params = _authorize_params(_pkce()[1], login_hint="dora")
    page = httpx.post(f"{issuer}/authorize", data={**params, "claims": claims_request})
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)
    assert {"username", "claims", "sign-in", "dev-idp-banner"} <= form.ids
    assert "problem" not in form.ids
    assert form.fields["state"] == params["state"] and 'value="dora"' in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_listed_redirect_uri_is_allowed(issuer: str) -> None:
    params = _authorize_params(_pkce()[1], redirect_uri=LISTED_REDIRECT)
    assert httpx.get(f"{issuer}/authorize", params=params).status_code == 200


def test_page_escapes_and_refuses_bad_input(issuer: str) -> None:
    challenge = _pkce()[1]
    page = httpx.get(
        f"{issuer}/authorize", params=_authorize_params(challenge, state='"><script>x</script>')
    )
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]

    reserved = _sign_in(issuer, challenge, claims='{"sub": "root"}')
    assert reserved.status_code == 400 and "may not set sub" in reserved.text
    bad_name = _sign_in(issuer, challenge, username="<b>eve</b>")
    assert bad_name.status_code == 400 and "&lt;b&gt;eve&lt;/b&gt;" in bad_name.text
    not_json = _sign_in(issuer, challenge, claims="{not json")
    assert not_json.status_code == 400 and "not valid JSON" in not_json.text
    deep = _sign_in(issuer, challenge, claims='{"a": ' + "[" * 899 + "]" * 899 + "}")
    assert deep.status_code == 400 and "nested too deeply" in deep.text  # was a 500


def test_cancel_is_access_denied(issuer: str) -> None:
    challenge = _pkce()[1]
    page = httpx.get(f"{issuer}/authorize", params=_authorize_params(challenge))
    form = _Form()
    form.feed(page.text)
    answer = httpx.post(form.action, data={**form.fields, "decision": "cancel"})
    assert answer.status_code == 303
    assert _query(answer.headers["location"])["error"] == "access_denied"


@pytest.fixture(scope="module")
def provider_arn(server: WebfedServer, issuer: str) -> str:
    """The administrator registers the provider as any other: its URL and the client id."""
    created = server.client("iam").create_open_id_connect_provider(
        Url=issuer, ClientIDList=[CLIENT_ID], ThumbprintList=["0" * 40]
    )
    return str(created["OpenIDConnectProviderArn"])


def _id_token(issuer: str, username: str) -> str:
    verifier, challenge = _pkce()
    answer = _sign_in(issuer, challenge, username=username)
    code = _query(answer.headers["location"])["code"]
    token: str = _token(issuer, code=code, code_verifier=verifier).json()["id_token"]
    return token


def test_sts_accepts_the_id_token(server: WebfedServer, issuer: str, provider_arn: str) -> None:
    iam, sts = server.client("iam"), server.client("sts")
    key = issuer.split("://", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{key}:aud": CLIENT_ID, f"{key}:sub": "alice"},
                    "StringLike": {f"{key}:team": "blue"},
                },
            }
        ],
    }
    role_arn = iam.create_role(
        RoleName="dev-idp-player", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]

    result = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="alice", WebIdentityToken=_id_token(issuer, "alice")
    )
    assert result["SubjectFromWebIdentityToken"] == "alice"
    assert result["Audience"] == CLIENT_ID
    assert result["Provider"] == issuer
    credentials = result["Credentials"]
    caller = server.client(
        "sts",
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert caller["Arn"].endswith(":assumed-role/dev-idp-player/alice")

    with pytest.raises(ClientError) as denied:
        sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="bob", WebIdentityToken=_id_token(issuer, "bob")
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_identity_pool_login_key(server: WebfedServer, issuer: str, provider_arn: str) -> None:
    """The pool names the provider's ARN; the app's ``Logins`` key is its URL sans scheme."""
    cognito = server.client("cognito-identity")
    pool_id = cognito.create_identity_pool(
        IdentityPoolName="dev_idp_game",
        AllowUnauthenticatedIdentities=False,
        OpenIdConnectProviderARNs=[provider_arn],
    )["IdentityPoolId"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": pool_id},
                    "ForAnyValue:StringLike": {
                        "cognito-identity.amazonaws.com:amr": "authenticated"
                    },
                },
            }
        ],
    }
    role = server.client("iam").create_role(
        RoleName="dev-idp-pool-player", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role})

    logins = {issuer.removeprefix("http://"): _id_token(issuer, "carol")}
    identity_id = cognito.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"]
    assert cognito.get_id(IdentityPoolId=pool_id, Logins=logins)["IdentityId"] == identity_id
    result = cognito.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)
    credentials = result["Credentials"]
    caller = server.client(
        "sts",
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretKey"],
        session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert ":assumed-role/dev-idp-pool-player/" in caller["Arn"]


def test_the_key_survives_a_restart(server: WebfedServer, issuer: str) -> None:
    before = httpx.get(f"{issuer}/jwks.json").json()
    server.restart()
    assert httpx.get(f"{issuer}/jwks.json").json() == before


def test_not_served_without_the_flag(tmp_path: Path) -> None:
    """Covered without a second server: ``create_app`` mounts nothing under ``/dev-idp``."""
    from webfed.admin import AdminCredentials
    from webfed.http.app import create_app
    from webfed.settings import Settings

    admin = AdminCredentials("AKIAWEBFEDTESTADMIN1", "x" * 40)
    off = create_app(Settings(data_dir=tmp_path), admin)
    on = create_app(Settings(data_dir=tmp_path, dev_idp=True), admin)
    assert not [route for route in off.routes if "/dev-idp" in getattr(route, "path", "")]
    assert [route for route in on.routes if "/dev-idp" in getattr(route, "path", "")]


def test_refused_on_a_public_listener(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "WEBFED_ADMIN_ACCESS_KEY_ID": "AKIAWEBFEDTESTADMIN1",
        "WEBFED_ADMIN_SECRET_ACCESS_KEY": "webfed-test-admin-secret-key-0000000000",
    }
    command = [sys.executable, "-m", "webfed", "serve", "--data-dir", str(tmp_path)]
    result = subprocess.run(
        [*command, "--host", "0.0.0.0", "--dev-idp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--dev-idp-force" in result.stderr
    assert not (tmp_path / "webfed.db").exists()  # refused before touching anything


def test_a_code_is_redeemed_once_across_workers(tmp_path: Path) -> None:
    """RFC 6749 4.1.2: a code used twice MUST be refused, whichever worker each try reaches.
    Each try is a new connection, so the two workers share them (measured before the used
    codes were shared: each code redeemed twice in 10 of 10 tries)."""
    two = WebfedServer(tmp_path, None, {"WEBFED_DEV_IDP": "true", "WEBFED_WORKERS": "2"})
    two.start()
    try:
        issuer = f"{two.url}/dev-idp"
        for _ in range(6):
            verifier, challenge = _pkce()
            code = _code(issuer, challenge)
            statuses = [
                _token(issuer, code=code, code_verifier=verifier).status_code for _ in range(4)
            ]
            assert sorted(statuses) == [200, 400, 400, 400]
    finally:
        two.stop()


def test_a_rebound_host_name_gets_nothing(issuer: str) -> None:
    """DNS rebinding (tests/unit/devidp/test_listener.py): the sign-in a rebound page would
    post, with a redirect URI that answers CORS so that it could read the code from the URL,
    is refused before any code is made; loopback names are served as ever."""
    port = urlsplit(issuer).port
    readable = f"http://127.0.0.1:{port}/dev-idp/.well-known/openid-configuration"
    params = _authorize_params(_pkce()[1], redirect_uri=readable)
    form = {**params, "username": "admin", "decision": "sign-in"}
    answer = httpx.post(
        f"{issuer}/authorize", data=form, headers={"Host": f"rebound.example:{port}"}
    )
    assert answer.status_code == 421 and "location" not in answer.headers
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        served = httpx.post(f"{issuer}/authorize", data=form, headers={"Host": host})
        assert served.status_code == 303 and "code=" in served.headers["location"]
