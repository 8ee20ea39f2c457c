"""The OpenID relying-party checks on the web identity token, and a provider in trouble.

OpenID Connect Core 1.0 §3.1.3.7 (ID token validation) as STS applies it (spec §1.5; the order
and every error in ``docs/oidc.md``): signature, algorithm allow-list, issuer, audience, subject,
expiry with AWS's five-minute grace, ``iat``, ``kid`` selection, key rotation, a deleted provider.
Then the provider is down, slow, or serves garbage: webfed answers a clean 4xx, never a 500 and
never a hang, and stays healthy. Everything goes through a real ``webfed serve`` and boto3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import botocore.exceptions
import httpx
import pytest

from tests.integration.test_federation_harness import (
    CLIENT_ID,
    Federation,
    encoded_blob,
    error_of,
    federation,
    message_of,
)
from tests.support.oidc_issuer import OidcTestIssuer
from tests.support.tokens import (
    forge_hmac_with_public_key,
    forge_none,
    generate_signing_key,
    sign,
    tamper_payload,
)

__all__ = ["federation"]

REFRESH_INTERVAL = 30.0  # docs/oidc.md: at most one unknown-kid refresh per issuer per 30 s


@pytest.fixture(scope="module")
def role_arn(federation: Federation) -> str:
    return federation.role()


@dataclass
class Rotating:
    """An issuer whose keys were fetched once, at ``warmed_at`` (monotonic)."""

    issuer: OidcTestIssuer
    role_arn: str
    warmed_at: float


@pytest.fixture(scope="module", autouse=True)
def rotating(federation: Federation) -> Rotating:
    """Warmed as the module starts, so the rotation test (last) waits as little as possible."""
    issuer, provider_arn = federation.new_issuer()
    arn = federation.role(
        federation.web_identity_statement(
            provider_arn=provider_arn,
            condition={"StringEquals": {f"{issuer.url.removeprefix('http://')}:aud": CLIENT_ID}},
        )
    )
    federation.assume(arn, issuer.mint())
    return Rotating(issuer, arn, time.monotonic())


def _refused(federation: Federation, role_arn: str, token: str) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        federation.assume(role_arn, token)
    code, status = error_of(caught)
    return code, status, message_of(caught)


def _check_of(federation: Federation, message: str) -> str:
    return str(federation.decode(encoded_blob(message))["check"])


# --- forged and malformed tokens --------------------------------------------------------------


def test_valid_token_is_accepted(federation: Federation, role_arn: str) -> None:
    assert federation.assume(role_arn, federation.token())["Audience"] == CLIENT_ID


FORGERIES: list[tuple[str, Callable[[Federation], str]]] = [
    ("payload-edited", lambda f: tamper_payload(f.token(subject="a"), sub="admin")),
    ("alg-none", lambda f: forge_none(f.issuer.claims())),
    ("alg-none-no-kid", lambda f: forge_none(f.issuer.claims(), kid=None)),
    (
        "hmac-with-public-key",
        lambda f: forge_hmac_with_public_key(f.issuer.claims(), f.issuer.signing_key),
    ),
    (
        "foreign-key-same-kid",
        lambda f: sign(f.issuer.claims(), generate_signing_key("RS256", f.issuer.signing_key.kid)),
    ),
    ("signature-stripped", lambda f: f.token().rsplit(".", 1)[0] + "."),
    ("alg-swapped-to-rs512", lambda f: f.issuer.mint(headers={"alg": "RS512"})),
    ("crit-header", lambda f: f.issuer.mint(headers={"crit": ["exp"]})),
]


@pytest.mark.parametrize("forge", [f for _, f in FORGERIES], ids=[name for name, _ in FORGERIES])
def test_forged_tokens_are_invalid(
    federation: Federation, role_arn: str, forge: Callable[[Federation], str]
) -> None:
    token = forge(federation)
    code, status, message = _refused(federation, role_arn, token)
    assert (code, status) == ("InvalidIdentityToken", 400)
    assert token not in message


CLAIM_CASES = [
    pytest.param(
        {"iss": "http://127.0.0.1:9/elsewhere"}, "No OpenIDConnect provider found", id="unknown-iss"
    ),
    pytest.param({"iss": None}, "", id="missing-iss"),
    pytest.param({"aud": "someone-else"}, "Incorrect token audience", id="wrong-aud"),
    pytest.param({"aud": None}, "", id="missing-aud"),
    pytest.param({"aud": ["client-1", "other"]}, "", id="two-aud-without-azp"),
    pytest.param({"sub": None}, "", id="missing-sub"),
    pytest.param({"sub": ""}, "", id="empty-sub"),
    pytest.param({"exp": None}, "", id="missing-exp"),
    pytest.param({"exp": "9999999999"}, "", id="exp-as-string"),
    pytest.param({"iat": 10**10}, "", id="iat-far-future"),
    pytest.param({"nbf": 10**10}, "", id="nbf-far-future"),
]


@pytest.mark.parametrize(("changes", "text"), CLAIM_CASES)
def test_claim_checks(
    federation: Federation, role_arn: str, changes: dict[str, object], text: str
) -> None:
    claims = federation.issuer.claims()
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    code, status, message = _refused(federation, role_arn, federation.issuer.mint(claims))
    assert (code, status) == ("InvalidIdentityToken", 400)
    assert text in message


def test_wrong_issuer_is_named(federation: Federation, role_arn: str) -> None:
    issuer = "http://127.0.0.1:9/elsewhere"
    token = federation.issuer.mint(federation.issuer.claims() | {"iss": issuer})
    _, _, message = _refused(federation, role_arn, token)
    assert f"No OpenIDConnect provider found in your account for {issuer}" in message


def test_two_audiences_with_azp(federation: Federation, role_arn: str) -> None:
    token = federation.token(audience=["other", CLIENT_ID], azp=CLIENT_ID)
    assert federation.assume(role_arn, token)["Audience"] == CLIENT_ID


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        pytest.param(0, True, id="fresh"),
        pytest.param(-200, True, id="expired-200s-ago-within-grace"),
        pytest.param(-330, False, id="expired-330s-ago"),
        pytest.param(-86_400, False, id="expired-a-day-ago"),
    ],
)
def test_expiry_and_grace(federation: Federation, role_arn: str, age: int, accepted: bool) -> None:
    now = int(time.time())
    token = federation.issuer.mint(federation.issuer.claims(now=now + age - 600, lifetime=600))
    if accepted:
        assert federation.assume(role_arn, token)["Credentials"]
        return
    code, status, message = _refused(federation, role_arn, token)
    assert (code, status) == ("ExpiredTokenException", 400)
    assert _check_of(federation, message) == "expired"


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        pytest.param(120, True, id="iat-2-min-ahead-skew"),
        pytest.param(400, False, id="iat-400s-ahead"),
    ],
)
def test_issued_in_the_future(
    federation: Federation, role_arn: str, ahead: int, accepted: bool
) -> None:
    token = federation.issuer.mint(federation.issuer.claims(now=int(time.time()) + ahead))
    if accepted:
        assert federation.assume(role_arn, token)["Credentials"]
        return
    code, status, message = _refused(federation, role_arn, token)
    assert (code, status) == ("InvalidIdentityToken", 400)
    assert _check_of(federation, message) == "issued_in_future"


def test_no_kid_with_one_key(federation: Federation, role_arn: str) -> None:
    token = federation.issuer.mint(kid=None)
    assert federation.assume(role_arn, token)["Credentials"]


def test_no_kid_with_several_keys(federation: Federation) -> None:
    issuer, provider_arn = federation.new_issuer()
    issuer.add_key()  # two RS256 keys published before webfed ever fetches the set
    prefix = issuer.url.removeprefix("http://")
    arn = federation.role(
        federation.web_identity_statement(
            {"StringEquals": {f"{prefix}:aud": CLIENT_ID}}, provider_arn=provider_arn
        )
    )
    code, status, message = _refused(federation, arn, issuer.mint(kid=None))
    assert (code, status) == ("InvalidIdentityToken", 400)
    assert _check_of(federation, message) == "ambiguous_kid"
    assert federation.assume(arn, issuer.mint())["Credentials"]  # with its kid it works


def test_deleted_provider_is_refused(federation: Federation) -> None:
    issuer, provider_arn = federation.new_issuer()
    prefix = issuer.url.removeprefix("http://")
    arn = federation.role(
        federation.web_identity_statement(
            {"StringEquals": {f"{prefix}:aud": CLIENT_ID}}, provider_arn=provider_arn
        )
    )
    assert federation.assume(arn, issuer.mint())["Credentials"]
    federation.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)

    def refused() -> None:
        code, _, message = _refused(federation, arn, issuer.mint())
        assert code == "InvalidIdentityToken"
        assert "No OpenIDConnect provider found" in message

    federation.wait_for_iam(refused)


def test_removed_client_id_is_refused(federation: Federation) -> None:
    issuer, provider_arn = federation.new_issuer(client_ids=(CLIENT_ID, "second-app"))
    arn = federation.role(
        federation.web_identity_statement(
            {"StringLike": {f"{issuer.url.removeprefix('http://')}:aud": "*"}},
            provider_arn=provider_arn,
        )
    )
    token = issuer.mint(issuer.claims(audience="second-app"))
    assert federation.assume(arn, token)["Audience"] == "second-app"
    federation.iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=provider_arn, ClientID="second-app"
    )

    def refused() -> None:
        _, _, message = _refused(federation, arn, issuer.mint(issuer.claims(audience="second-app")))
        assert "Incorrect token audience" in message

    federation.wait_for_iam(refused)


# --- the provider in trouble ---------------------------------------------------------------------


@pytest.fixture
def troubled(federation: Federation) -> Iterator[tuple[OidcTestIssuer, str]]:
    """A provider webfed has never fetched keys from, and a role that trusts it."""
    issuer, provider_arn = federation.new_issuer()
    prefix = issuer.url.removeprefix("http://")
    arn = federation.role(
        federation.web_identity_statement(
            {"StringEquals": {f"{prefix}:aud": CLIENT_ID}}, provider_arn=provider_arn
        )
    )
    yield issuer, arn
    assert httpx.get(f"{federation.server.url}/healthz", timeout=2).status_code == 200


@pytest.mark.parametrize(
    "mode",
    ["down", "garbage", "huge", "wrong_issuer", "redirect_other_host"],
    ids=lambda mode: f"mode-{mode}",
)
def test_provider_failure_without_cached_keys(
    federation: Federation, troubled: tuple[OidcTestIssuer, str], mode: str
) -> None:
    issuer, arn = troubled
    issuer.mode = mode
    code, status, message = _refused(federation, arn, issuer.mint())
    assert (code, status) == ("IDPCommunicationError", 400)
    assert _check_of(federation, message) in {"idp_communication", "key_set"}


def test_provider_unreachable(federation: Federation, troubled: tuple[OidcTestIssuer, str]) -> None:
    issuer, arn = troubled
    token = issuer.mint()
    issuer.stop()
    code, status, _ = _refused(federation, arn, token)
    assert (code, status) == ("IDPCommunicationError", 400)


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("redirect", id="same-host-redirect-followed"),
        pytest.param("other_host_jwks", id="jwks-on-another-host"),
    ],
)
def test_provider_quirks_that_work(
    federation: Federation, troubled: tuple[OidcTestIssuer, str], mode: str
) -> None:
    issuer, arn = troubled
    issuer.mode = mode
    assert federation.assume(arn, issuer.mint())["Credentials"]


def test_provider_down_with_cached_keys(
    federation: Federation, troubled: tuple[OidcTestIssuer, str]
) -> None:
    issuer, arn = troubled
    assert federation.assume(arn, issuer.mint())["Credentials"]
    issuer.mode = "down"
    assert federation.assume(arn, issuer.mint())["Credentials"]  # cached keys still verify
    stranger = issuer.add_key()  # a kid webfed has not seen cannot be fetched now
    code, status, _ = _refused(federation, arn, issuer.mint(key=stranger))
    assert status == 400
    assert code in {"InvalidIdentityToken", "IDPCommunicationError"}


def test_slow_provider_is_bounded(
    federation: Federation, troubled: tuple[OidcTestIssuer, str]
) -> None:
    issuer, arn = troubled
    issuer.mode = "slow"
    issuer.slow_seconds = 30.0
    health: list[int] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        pending = pool.submit(_refused, federation, arn, issuer.mint())
        time.sleep(0.5)
        health.append(httpx.get(f"{federation.server.url}/healthz", timeout=2).status_code)
        code, status, _ = pending.result(timeout=20)
        elapsed = time.monotonic() - started
    assert (code, status) == ("IDPCommunicationError", 400)
    assert elapsed < 8.0  # 5 s total timeout per fetch (docs/oidc.md), never a hang
    assert health == [200]  # the server answers other requests meanwhile


# --- key rotation by the provider (kept last: it waits out the refresh interval) ------------------


def test_key_rotation_is_picked_up_without_restart(
    federation: Federation, rotating: Rotating
) -> None:
    issuer = rotating.issuer
    old_key = issuer.signing_key
    new_key = issuer.rotate_keys()
    assert new_key.kid != old_key.kid
    remaining = rotating.warmed_at + REFRESH_INTERVAL + 1.0 - time.monotonic()
    if remaining > 2:  # within the interval a new kid cannot trigger a fetch: refused
        code, _, message = _refused(federation, rotating.role_arn, issuer.mint())
        assert code == "InvalidIdentityToken"
        assert _check_of(federation, message) == "unknown_kid"
        remaining = rotating.warmed_at + REFRESH_INTERVAL + 1.0 - time.monotonic()
    time.sleep(max(0.0, remaining))
    assert federation.assume(rotating.role_arn, issuer.mint())["Credentials"]
    assert federation.assume(rotating.role_arn, issuer.mint(key=old_key))["Credentials"]
