"""Rate limits on the unsigned calls through a real ``webfed serve``: per client address, per
token issuer; the STS wire error (``Throttling``, 400, "Rate exceeded") as boto3 reads it; the
metric, the log line and the audit events, none with the token in them.

Every loopback address is this host, so each test speaks from its own 127.0.0.x and gets a
client bucket of its own. The rates are tiny (one token per ten seconds) so that no bucket
refills while a test runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.integration.conftest import ADMIN_KEY_ID, ADMIN_SECRET
from tests.integration.test_federation_harness import Federation, _start, error_of, message_of

CLIENT_BURST = 3
ISSUER_BURST = 5
LIMITS = {
    "WEBFED_RATE_LIMIT_PER_CLIENT": "0.1",
    "WEBFED_RATE_LIMIT_PER_CLIENT_BURST": str(CLIENT_BURST),
    "WEBFED_RATE_LIMIT_PER_ISSUER": "0.1",
    "WEBFED_RATE_LIMIT_PER_ISSUER_BURST": str(ISSUER_BURST),
}


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """SQLite only: the limits are per worker process and never touch the database."""
    yield from _start(tmp_path_factory.mktemp("webfed-limits"), None, LIMITS)


def _assume(fed: Federation, source: str, token: str, role_arn: str) -> httpx.Response:
    """An unsigned AssumeRoleWithWebIdentity from ``source`` (a loopback address)."""
    form = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": role_arn,
        "RoleSessionName": "limits",
        "WebIdentityToken": token,
    }
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.post(fed.server.url, data=form)


def _code(response: httpx.Response) -> str:
    found = re.search(r"<Code>([^<]+)</Code>", response.text)
    return found.group(1) if found else "OK"


def _token_for(fed: Federation, issuer_url: str, **claims: Any) -> str:
    return fed.issuer.mint({**fed.issuer.claims(**claims), "iss": issuer_url})


def test_per_client_limit(federation: Federation) -> None:
    """The burst passes (and fails on its own merits: nobody registered this issuer); the rest
    are throttled before any work. Another address is not affected."""
    role = federation.role()
    token = _token_for(federation, "https://unregistered.example/client-test")
    codes = [_code(_assume(federation, "127.0.0.11", token, role)) for _ in range(5)]
    assert codes == ["InvalidIdentityToken"] * CLIENT_BURST + ["Throttling"] * 2
    throttled = _assume(federation, "127.0.0.11", token, role)
    assert throttled.status_code == 400
    assert "<Message>Rate exceeded</Message>" in throttled.text
    assert "<Type>Sender</Type>" in throttled.text
    assert _code(_assume(federation, "127.0.0.12", token, role)) == "InvalidIdentityToken"


def _signed_list_roles(fed: Federation, source: str) -> httpx.Response:
    """An administrator's signed IAM ListRoles from ``source``."""
    body = "Action=ListRoles&Version=2010-05-08"
    request = AWSRequest(
        method="POST",
        url=fed.server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ADMIN_KEY_ID, ADMIN_SECRET), "iam", "us-east-1").add_auth(request)
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.post(fed.server.url + "/", content=body, headers=dict(request.headers))


def test_signed_calls_are_not_limited(federation: Federation) -> None:
    """Only the unsigned calls are: an address over its limit still makes signed calls."""
    role = federation.role()
    token = _token_for(federation, "https://unregistered.example/signed-test")
    codes = [_code(_assume(federation, "127.0.0.31", token, role)) for _ in range(CLIENT_BURST + 1)]
    assert codes[-1] == "Throttling"
    for _ in range(CLIENT_BURST + 2):
        response = _signed_list_roles(federation, "127.0.0.31")
        assert response.status_code == 200, response.text


def test_per_issuer_limit_through_boto3(federation: Federation) -> None:
    """Valid tokens of one issuer, each from its own address: the issuer's burst passes, then
    boto3 sees Throttling; a second issuer's calls still reach the handler."""
    role = federation.role()
    for index in range(ISSUER_BURST):
        response = _assume(federation, f"127.0.1.{index + 1}", federation.token(), role)
        assert response.status_code == 200, response.text
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role, federation.token())
    assert error_of(caught) == ("Throttling", 400)
    assert message_of(caught) == "Rate exceeded"
    other = _token_for(federation, "https://unregistered.example/issuer-test")
    assert _code(_assume(federation, "127.0.1.100", other, role)) == "InvalidIdentityToken"


def test_rejections_are_counted_logged_and_audited_without_the_token(
    federation: Federation,
) -> None:
    role = federation.role()
    token = _token_for(federation, "https://unregistered.example/audit-test")
    for _ in range(CLIENT_BURST + 2):
        _assume(federation, "127.0.0.21", token, role)
    metrics = httpx.get(f"{federation.server.url}/metrics", timeout=10).text
    sample = re.search(
        r'webfed_throttled_requests_total\{limit="client",operation="AssumeRoleWithWebIdentity",'
        r'service="sts"\} (\d+)',
        metrics,
    )
    assert sample is not None and int(float(sample.group(1))) >= 2
    deadline = time.monotonic() + 10
    while "errorCode=Throttling" not in (log := federation.server.log()):
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.2)
    assert "rate limit refusing" in log and "127.0.0.21" in log
    assert token not in log
    assert token.split(".")[1] not in log  # not even the claims segment
