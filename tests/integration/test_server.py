"""The server's own contract: health, metrics, request ids, authentication, malformed input."""

from __future__ import annotations

import datetime as dt
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.integration.conftest import ADMIN_KEY_ID, ADMIN_SECRET, WebfedServer
from tests.support.ports import free_port

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def signed(
    url: str,
    body: bytes,
    service: str = "iam",
    secret: str = ADMIN_SECRET,
    key_id: str = ADMIN_KEY_ID,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    request = AWSRequest("POST", url + "/", data=body, headers=dict(headers or FORM))
    SigV4Auth(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def error_code(response: httpx.Response) -> str:
    text = response.text
    start = text.index("<Code>") + len("<Code>")
    return text[start : text.index("</Code>")]


def test_healthz_and_metrics(server: WebfedServer) -> None:
    health = httpx.get(f"{server.url}/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    server.client("sts").get_caller_identity()
    metrics = httpx.get(f"{server.url}/metrics")
    assert metrics.status_code == 200
    assert 'webfed_requests_total{operation="GetCallerIdentity",service="sts",status="200"}' in (
        metrics.text
    )


def test_request_id_in_header_and_body(server: WebfedServer) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    response = httpx.post(server.url + "/", content=body, headers=signed(server.url, body, "sts"))
    assert response.status_code == 200
    request_id = response.headers["x-amzn-RequestId"]
    assert f"<RequestId>{request_id}</RequestId>" in response.text
    assert f'xmlns="{STS_NS}"' in response.text


def test_get_caller_identity_as_admin(server: WebfedServer) -> None:
    identity = server.client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["UserId"] == "000000000000"


def test_cli_get_caller_identity(server: WebfedServer) -> None:
    assert server.aws("sts", "get-caller-identity")["Account"] == "000000000000"


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"access_key_id": "AKIAUNKNOWNUNKNOWN00"}, "InvalidClientTokenId"),
        ({"secret_access_key": "not-the-secret"}, "SignatureDoesNotMatch"),
    ],
    ids=["unknown-key", "wrong-secret"],
)
def test_bad_credentials_are_refused(
    server: WebfedServer, credentials: dict[str, str], code: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        server.client("iam", **credentials).list_roles()
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_iam_call_needs_authentication(server: WebfedServer) -> None:
    response = httpx.post(
        server.url + "/", content=b"Action=ListRoles&Version=2010-05-08", headers=FORM
    )
    assert response.status_code == 403
    assert error_code(response) == "MissingAuthenticationToken"
    assert "<Type>Sender</Type>" in response.text


def test_expired_signature_is_refused(server: WebfedServer) -> None:
    body = b"Action=ListRoles&Version=2010-05-08"
    twenty_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=twenty_minutes_ago):
        headers = signed(server.url, body)
    response = httpx.post(server.url + "/", content=body, headers=headers)
    assert response.status_code == 400
    assert error_code(response) == "RequestExpired"


def test_tampered_body_fails_signature(server: WebfedServer) -> None:
    body = b"Action=ListRoles&Version=2010-05-08"
    headers = signed(server.url, body)
    response = httpx.post(server.url + "/", content=body + b"&MaxItems=5", headers=headers)
    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"


MALFORMED: list[tuple[str, bytes, int, str]] = [
    ("missing-action", b"Version=2010-05-08", 400, "MissingAction"),
    ("unknown-action", b"Action=DoSomethingOdd&Version=2010-05-08", 400, "InvalidAction"),
    ("bad-percent", b"Action=ListRoles&Version=2010-05-08&Marker=%zz", 404, "MalformedQueryString"),
    ("non-utf8", b"Action=ListRoles&Version=2010-05-08&Marker=%ff%fe", 404, "MalformedQueryString"),
    (
        "raw-non-utf8",
        b"Action=ListRoles&Version=2010-05-08&Marker=\xff",
        404,
        "MalformedQueryString",
    ),
    ("wrong-type", b"Action=ListRoles&Version=2010-05-08&MaxItems=lots", 400, "ValidationError"),
    ("out-of-range", b"Action=ListRoles&Version=2010-05-08&MaxItems=0", 400, "ValidationError"),
    ("nul-in-name", b"Action=GetRole&Version=2010-05-08&RoleName=a%00b", 400, "ValidationError"),
    (
        "xml-unsafe",
        b"Action=GetRole&Version=2010-05-08&RoleName=%3C%26%3E%22",
        400,
        "ValidationError",
    ),
    ("missing-param", b"Action=GetRole&Version=2010-05-08", 400, "ValidationError"),
]


@pytest.mark.parametrize(
    ("body", "status", "code"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_query_is_a_4xx(
    server: WebfedServer, body: bytes, status: int, code: str
) -> None:
    response = httpx.post(server.url + "/", content=body, headers=signed(server.url, body))
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert "Traceback" not in response.text


def test_huge_body_is_refused_without_reading_it_all(server: WebfedServer) -> None:
    body = b"Action=ListRoles&Version=2010-05-08&Marker=" + b"a" * (2 * 1024 * 1024)
    response = httpx.post(server.url + "/", content=body, headers=FORM)
    assert response.status_code == 413
    assert error_code(response) == "RequestEntityTooLarge"


def test_unknown_json_target(server: WebfedServer) -> None:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "NoSuchService.Op"}
    response = httpx.post(server.url + "/", content=b"{}", headers=headers)
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"
    assert response.headers["x-amzn-RequestId"]


def test_get_query_is_accepted(server: WebfedServer) -> None:
    url = server.url + "/?Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest("GET", url)
    SigV4Auth(Credentials(ADMIN_KEY_ID, ADMIN_SECRET), "sts", "us-east-1").add_auth(request)
    response = httpx.get(url, headers=dict(request.headers.items()))
    assert response.status_code == 200, response.text
    assert "<Account>000000000000</Account>" in response.text


# --- process-level behaviour: each test starts its own server ---------------------------------


def _serve(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WEBFED_")}
    full_env.update(env)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webfed",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
            *args,
        ],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.communicate()[0].decode())


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    return process.communicate(timeout=15)[0].decode()


def test_admin_credentials_generated_once(tmp_path: Path) -> None:
    process, _ = _serve(tmp_path, {})
    output = _stop(process)
    path = tmp_path / "admin-credentials"
    assert f"Admin credentials written to {path}" in output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("[webfed]\naws_access_key_id = AKIA")
    secret = text.split("aws_secret_access_key = ")[1].strip()
    assert secret not in output
    process, _ = _serve(tmp_path, {})
    again = _stop(process)
    assert "Admin credentials written" not in again
    assert path.read_text() == text


def test_generated_credentials_work_with_the_cli(tmp_path: Path) -> None:
    process, url = _serve(tmp_path, {})
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "admin-credentials"),
            AWS_PROFILE="webfed",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=os.devnull,
        )
        result = subprocess.run(
            [sys.executable, "-m", "awscli", "--endpoint-url", url, "sts", "get-caller-identity"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert '"Account": "000000000000"' in result.stdout
    finally:
        _stop(process)


def test_json_logs_and_account_id(tmp_path: Path) -> None:
    env = {
        "WEBFED_ADMIN_ACCESS_KEY_ID": ADMIN_KEY_ID,
        "WEBFED_ADMIN_SECRET_ACCESS_KEY": ADMIN_SECRET,
    }
    process, url = _serve(tmp_path, env, "--log-format", "json", "--account-id", "123456789012")
    try:
        client = WebfedServer(tmp_path, None, {})
        client.url = url
        assert client.client("sts").get_caller_identity()["Account"] == "123456789012"
    finally:
        output = _stop(process)
    json_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert json_lines, output
    assert any('"event": "webfed ready"' in line for line in json_lines)
    assert ADMIN_SECRET not in output


def test_invalid_option_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "webfed",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--account-id",
            "12",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "12 digits" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_variables_configure_serve(tmp_path: Path) -> None:
    env = {
        "WEBFED_ADMIN_ACCESS_KEY_ID": ADMIN_KEY_ID,
        "WEBFED_ADMIN_SECRET_ACCESS_KEY": ADMIN_SECRET,
        "WEBFED_ACCOUNT_ID": "210987654321",
    }
    process, url = _serve(tmp_path, env)
    try:
        client = WebfedServer(tmp_path, None, {})
        client.url = url
        identity: dict[str, Any] = client.client("sts").get_caller_identity()
        assert identity["Account"] == "210987654321"
    finally:
        _stop(process)


def _raw_exchange(url: str, payload: bytes, *, wait: float) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as connection:
        connection.sendall(payload)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def test_an_endless_header_is_cut_off_with_431(server: WebfedServer) -> None:
    # Just past the 64 KiB cap, and never finished: the server must not wait for the rest.
    head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * (70 * 1024)
    answer = _raw_exchange(server.url, head, wait=10)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_body_that_never_arrives_is_a_408(tmp_path: Path) -> None:
    env = {
        "WEBFED_ADMIN_ACCESS_KEY_ID": ADMIN_KEY_ID,
        "WEBFED_ADMIN_SECRET_ACCESS_KEY": ADMIN_SECRET,
        "WEBFED_REQUEST_BODY_TIMEOUT_SECONDS": "1",
    }
    process, url = _serve(tmp_path, env)
    try:
        started = time.monotonic()
        head = (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\nAction=Get"
        )
        answer = _raw_exchange(url, head, wait=10)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"<Code>RequestTimeout</Code>" in answer
        assert time.monotonic() - started < 8
    finally:
        _stop(process)


def test_a_client_gone_mid_body_is_neither_answered_nor_logged_as_an_error(
    server: WebfedServer,
) -> None:
    """It used to be an "unhandled error" with a traceback in the log and a 500 to nobody."""
    before = server.log()
    host, port = server.url.removeprefix("http://").split(":")
    for _ in range(3):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
                b"\r\nContent-Length: 100\r\n\r\nAction=Get"
            )
            time.sleep(0.2)  # the server is inside the body now, waiting for the rest
    # The answer to a later request comes after the server saw each disconnect.
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    time.sleep(0.5)
    written = server.log()[len(before) :]
    assert "Traceback" not in written and "unhandled error" not in written, written
