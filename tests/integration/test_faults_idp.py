"""Fault: the identity provider misbehaves (issue 8, item 3), the cases not covered elsewhere.

Already covered through a real server in ``test_federation_tokens.py``: the provider down or
unreachable (with and without cached keys), one slow request bounded by the timeout, garbage on
both documents, a huge JWKS, and a key rotation picked up without a restart. Unit tests in
``tests/unit/jwks`` cover the cache's single flight and per-host cap directly.

Here, through a real ``webfed serve`` (SQLite: the key cache does not depend on the database)
and boto3:

- each document broken on its own, the other one sound: discovery not JSON, discovery without
  ``jwks_uri``, a discovery document larger than the 512 KiB cap, a JWKS not JSON, a JWKS whose
  ``keys`` is not a list, a huge JWKS. Each is ``IDPCommunicationError`` (400) with a check an
  administrator can decode, never a 500; once the provider serves sound documents again, the
  same role works after ``retry_after_failure`` (10 s), without a restart;
- a provider that hangs while twenty callers need its keys at once: every caller has its answer
  within the 5-second fetch deadline, the provider sees one discovery request (no pile-up),
  callers after the failure are refused at once instead of queueing, other providers' tokens
  and the health endpoints answer meanwhile, and when the provider is fast again the next call
  after ``retry_after_failure`` succeeds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.exceptions
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from tests.integration.conftest import WebfedServer
from tests.integration.test_federation_harness import (
    CLIENT_ID,
    HTTP_ISSUERS,
    Federation,
    encoded_blob,
)
from tests.support.oidc_issuer import OidcTestIssuer

TOTAL_TIMEOUT = 5.0  # docs/oidc.md: per fetch, a hard deadline
RETRY_AFTER_FAILURE = 10.0  # docs/oidc.md: no new fetch for this long after a failure
SLACK = 3.0  # a loaded test machine
CALLERS = 20
_HUGE_CHUNK = b" " * 65_536

DISCOVERY_FAULTS = ("discovery-not-json", "discovery-without-jwks-uri", "discovery-huge")
JWKS_FAULTS = ("jwks-not-json", "jwks-keys-not-a-list", "jwks-huge")


class FaultyIssuer(OidcTestIssuer):
    """The test provider with one document broken at a time (``fault``), the other sound."""

    def __init__(self) -> None:
        super().__init__(client_id=CLIENT_ID)
        self.fault: str | None = None

    async def _discovery(self, request: Request) -> Response:
        if self.fault == "discovery-not-json":
            self.discovery_requests += 1
            return PlainTextResponse("<html>sign in</html>", media_type="application/json")
        if self.fault == "discovery-without-jwks-uri":
            self.discovery_requests += 1
            return JSONResponse({"issuer": self.url})
        if self.fault == "discovery-huge":
            self.discovery_requests += 1
            return StreamingResponse(_huge_document(), media_type="application/json")
        return await super()._discovery(request)

    async def _jwks(self, request: Request) -> Response:
        if self.fault == "jwks-not-json":
            self.jwks_requests += 1
            return PlainTextResponse("{not json", media_type="application/json")
        if self.fault == "jwks-keys-not-a-list":
            self.jwks_requests += 1
            return JSONResponse({"keys": {"kid": "key-1"}})
        if self.fault == "jwks-huge":
            self.jwks_requests += 1
            return StreamingResponse(_huge_document(), media_type="application/json")
        return await super()._jwks(request)


async def _huge_document() -> AsyncIterator[bytes]:
    """1.25 MiB of valid JSON: an object padded with whitespace."""
    yield b'{"keys": []'
    for _ in range(20):
        yield _HUGE_CHUNK
    yield b"}"


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    server = WebfedServer(tmp_path_factory.mktemp("webfed-idp"), None, dict(HTTP_ISSUERS))
    healthy = OidcTestIssuer(client_id=CLIENT_ID).start()
    server.start()
    fed = Federation(server, healthy, iam=server.client("iam"), sts=server.client("sts"))
    fed.provider_arn = fed.register(healthy)
    try:
        yield fed
    finally:
        server.stop()
        healthy.stop()
        for extra in fed.extra_issuers:
            extra.stop()


def faulty_provider(federation: Federation) -> tuple[FaultyIssuer, str]:
    """A provider webfed has never fetched keys from, and a role that trusts it."""
    issuer = FaultyIssuer()
    issuer.start()
    federation.extra_issuers.append(issuer)
    provider_arn = federation.register(issuer)
    prefix = issuer.url.removeprefix("http://")
    role = federation.role(
        federation.web_identity_statement(
            {"StringEquals": {f"{prefix}:aud": CLIENT_ID}}, provider_arn=provider_arn
        )
    )
    return issuer, role


def refusal(federation: Federation, role: str, token: str) -> tuple[str, int, str]:
    """Code, status and decoded check of a refused ``AssumeRoleWithWebIdentity``."""
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role, token)
    error, metadata = caught.value.response["Error"], caught.value.response["ResponseMetadata"]
    check = str(federation.decode(encoded_blob(error["Message"]))["check"])
    return error["Code"], metadata["HTTPStatusCode"], check


def healthy_call(federation: Federation, role: str) -> float:
    """The seconds a call with the healthy provider's token takes (it must succeed)."""
    started = time.monotonic()
    assert federation.assume(role, federation.token(subject="bystander"))["Credentials"]
    return time.monotonic() - started


def accepted_within(call: Callable[[], object], bound: float) -> float:
    started = time.monotonic()
    while True:
        try:
            call()
            return time.monotonic() - started
        except botocore.exceptions.ClientError:
            if time.monotonic() - started > bound:
                raise
            time.sleep(0.5)


def test_each_broken_document_is_refused_cleanly_and_recovery_needs_no_restart(
    federation: Federation,
) -> None:
    providers = {fault: faulty_provider(federation) for fault in DISCOVERY_FAULTS + JWKS_FAULTS}
    for fault, (issuer, role) in providers.items():
        issuer.fault = fault
        code, status, check = refusal(federation, role, issuer.mint())
        assert (code, status) == ("IDPCommunicationError", 400), fault
        assert check in {"idp_communication", "key_set"}, fault
        if fault in JWKS_FAULTS:  # the sound discovery document led to the broken key set
            assert (issuer.discovery_requests, issuer.jwks_requests) == (1, 1), fault
        else:
            assert (issuer.discovery_requests, issuer.jwks_requests) == (1, 0), fault
    assert httpx.get(f"{federation.server.url}/readyz", timeout=5).status_code == 200

    for issuer, _ in providers.values():
        issuer.fault = None
    recovered = time.monotonic()
    for fault, (issuer, role) in providers.items():
        accepted_within(
            lambda: federation.assume(role, issuer.mint()),  # noqa: B023
            RETRY_AFTER_FAILURE + SLACK,
        )
        took = time.monotonic() - recovered
        print(f"{fault}: accepted again {took:.1f} s after the provider recovered")


def test_a_hanging_provider_bounds_every_caller_and_piles_nothing_up(
    federation: Federation,
) -> None:
    issuer, role = faulty_provider(federation)
    bystander = federation.role()
    healthy_call(federation, bystander)  # the healthy provider's keys are cached now
    # Hung for twice the fetch deadline; no longer, so the provider's own handlers have ended
    # before the module stops it.
    issuer.mode, issuer.slow_seconds = "slow", 2 * TOTAL_TIMEOUT
    barrier = threading.Barrier(CALLERS)

    def caller(_: int) -> tuple[str, int, float]:
        token = issuer.mint()
        barrier.wait(timeout=30)
        started = time.monotonic()
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            federation.assume(role, token)
        response: dict[str, Any] = caught.value.response
        status = response["ResponseMetadata"]["HTTPStatusCode"]
        return response["Error"]["Code"], status, time.monotonic() - started

    with ThreadPoolExecutor(CALLERS) as pool:
        answers = pool.map(caller, range(CALLERS))
        time.sleep(1.0)  # the callers now wait on the hung fetch
        meanwhile = healthy_call(federation, bystander)
        live = httpx.get(f"{federation.server.url}/livez", timeout=2).status_code
        outcomes = list(answers)
    assert {(code, status) for code, status, _ in outcomes} == {("IDPCommunicationError", 400)}
    slowest = max(seconds for _, _, seconds in outcomes)
    print(f"{CALLERS} callers answered within {slowest:.2f} s; a bystander took {meanwhile:.2f} s")
    assert slowest < TOTAL_TIMEOUT + SLACK
    assert meanwhile < 2.0
    assert live == 200
    assert issuer.discovery_requests == 1  # single flight: one fetch for twenty callers

    started = time.monotonic()
    code, status, check = refusal(federation, role, issuer.mint())
    assert (code, status, check) == ("IDPCommunicationError", 400, "idp_communication")
    assert time.monotonic() - started < 1.0  # refused at once, not queued behind a fetch
    assert issuer.discovery_requests == 1

    issuer.mode = "normal"
    took = accepted_within(
        lambda: federation.assume(role, issuer.mint()), RETRY_AFTER_FAILURE + SLACK
    )
    print(f"the recovered provider's tokens are accepted again after {took:.1f} s")
