"""RequestVerifier: every failure leaf, presigned URLs against the session's expiry, S3 rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.authorize.helpers import (
    ACCOUNT,
    ADMIN,
    NOW,
    OTHER_KEY,
    Clock,
    game_session,
    mint,
    ring,
    sign_with,
    verifier,
)
from tests.unit.sigv4.botocore_signer import Signer
from webfed.admin import AdminCredentials
from webfed.core.credentials import SessionTokenCache, TemporaryCredentials
from webfed.core.sigv4 import S3_RULES, STANDARD_RULES, HttpRequest, SigningRules
from webfed.errors import (
    AccessDenied,
    ExpiredToken,
    IncompleteSignature,
    InvalidClientTokenId,
    MissingAuthenticationToken,
    RequestExpired,
    SignatureDoesNotMatch,
    WebfedError,
    XAmzContentSHA256Mismatch,
)
from webfed.verify import (
    RequestVerifier,
    VerifiedCaller,
    json_error_code,
    render_s3_error,
    s3_error,
    s3_error_code,
)

HOUR = timedelta(hours=1)


def _replace_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    headers = tuple((k, value if k.lower() == name else v) for k, v in request.headers)
    return replace(request, headers=headers)


def _fail(
    request: HttpRequest,
    *,
    at: Clock | None = None,
    rules: SigningRules = STANDARD_RULES,
    service: str | None = None,
    region: str | None = None,
) -> WebfedError:
    with pytest.raises(WebfedError) as caught:
        verifier(at).verify(request, rules=rules, service=service, region=region)
    return caught.value


# --- who signed ---------------------------------------------------------------------------------


def test_admin_is_the_account_root() -> None:
    caller = verifier().verify(sign_with(ADMIN), rules=STANDARD_RULES)
    assert caller == VerifiedCaller(
        ADMIN.access_key_id,
        None,
        f"arn:aws:iam::{ACCOUNT}:root",
        ACCOUNT,
        ACCOUNT,
        "us-east-1",
        "execute-api",
        False,
        NOW,
    )
    assert caller.is_admin


@pytest.mark.parametrize("signer", ["header", "query", "s3", "s3-query"], ids=str)
def test_temporary_credentials_identify_the_role_session(signer: Signer) -> None:
    credentials = mint()
    rules = S3_RULES if signer.startswith("s3") else STANDARD_RULES
    request = sign_with(
        credentials, signer=signer, service="s3" if "s3" in signer else "execute-api"
    )
    caller = verifier().verify(request, rules=rules)
    assert caller.session == game_session()
    assert caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/GamePlayer/player-42"
    assert caller.user_id == "AROAGAMEPLAYEREXAMPLE:player-42"
    assert caller.account == ACCOUNT
    assert caller.presigned is signer.endswith("query")
    assert not caller.is_admin


def test_repeated_tokens_are_unsealed_once() -> None:
    credentials = mint()
    cache = SessionTokenCache()
    current = ring()
    checker = RequestVerifier(lambda: current, cache, clock=Clock())
    for _ in range(3):
        checker.verify(sign_with(credentials), rules=STANDARD_RULES)
    assert len(cache) == 1
    assert ADMIN.secret_access_key not in repr(verifier())
    assert credentials.session_token not in repr(
        checker.verify(sign_with(credentials), rules=STANDARD_RULES)
    )


def test_without_admin_credentials_the_admin_key_is_unknown() -> None:
    checker = RequestVerifier(ring, SessionTokenCache(), clock=Clock())
    with pytest.raises(InvalidClientTokenId):
        checker.verify(sign_with(ADMIN), rules=STANDARD_RULES)


def test_admin_credentials_need_an_account() -> None:
    with pytest.raises(ValueError, match="account"):
        RequestVerifier(ring, SessionTokenCache(), clock=Clock(), admin=ADMIN)


# --- every failure ------------------------------------------------------------------------------


def test_unsigned_request_is_missing_authentication() -> None:
    request = HttpRequest("GET", "/", "", (("Host", "example.amazonaws.com"),))
    error = _fail(request)
    assert isinstance(error, MissingAuthenticationToken)
    assert (s3_error_code(error), json_error_code(error)) == (
        "AccessDenied",
        "MissingAuthenticationTokenException",
    )


def test_unknown_access_key() -> None:
    error = _fail(sign_with(AdminCredentials("AKIANOSUCHKEY0000000", "x" * 40)))
    assert isinstance(error, InvalidClientTokenId)
    assert s3_error(error).code == "InvalidAccessKeyId"
    assert s3_error(error).status == 403
    assert json_error_code(error) == "UnrecognizedClientException"


def test_temporary_key_without_its_token_is_unknown() -> None:
    credentials = mint()
    bare = AdminCredentials(credentials.access_key_id, credentials.secret_access_key)
    assert isinstance(_fail(sign_with(bare)), InvalidClientTokenId)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: replace(c, session_token=c.session_token[:-12] + "A" * 12),
        lambda c: replace(c, session_token=mint(game_session(), ring(OTHER_KEY)).session_token),
        lambda c: replace(c, access_key_id="ASIAOTHERKEY00000000"),
        lambda c: replace(c, session_token="not a token!"),
        lambda c: replace(c, session_token="A" * 20_000),
    ],
    ids=["tampered", "other-sealing-key", "other-access-key", "garbage", "oversized"],
)
def test_bad_session_tokens(tamper: object) -> None:
    credentials: TemporaryCredentials = tamper(mint())  # type: ignore[operator]
    error = _fail(sign_with(credentials))
    assert isinstance(error, InvalidClientTokenId)
    assert (s3_error(error).code, s3_error(error).status) == ("InvalidToken", 400)
    assert json_error_code(error) == "UnrecognizedClientException"
    assert credentials.session_token not in error.full_message


def test_admin_key_with_a_session_token_is_refused() -> None:
    forged = TemporaryCredentials(
        ADMIN.access_key_id, ADMIN.secret_access_key, mint().session_token, NOW + HOUR
    )
    assert isinstance(_fail(sign_with(forged)), InvalidClientTokenId)


def test_expired_session() -> None:
    credentials = mint()
    error = _fail(sign_with(credentials, signed_at=NOW + HOUR), at=Clock(NOW + HOUR))
    assert isinstance(error, ExpiredToken)
    assert (s3_error_code(error), json_error_code(error)) == (
        "ExpiredToken",
        "ExpiredTokenException",
    )


def test_wrong_secret() -> None:
    credentials = replace(mint(), secret_access_key="w" * 40)
    error = _fail(sign_with(credentials))
    assert isinstance(error, SignatureDoesNotMatch)
    assert (s3_error_code(error), json_error_code(error)) == (
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    )


@pytest.mark.parametrize(
    ("expected", "service", "region"),
    [("s3", "execute-api", None), (None, "execute-api", "eu-west-1")],
    ids=["other-service", "other-region"],
)
def test_scope_must_name_this_endpoint(
    expected: str | None, service: str, region: str | None
) -> None:
    request = sign_with(mint(), service=service)
    error = _fail(request, service=expected, region=region)
    assert isinstance(error, SignatureDoesNotMatch)
    assert "scoped" in error.message


def test_old_header_signature() -> None:
    error = _fail(sign_with(mint(), signed_at=NOW - timedelta(minutes=16)))
    assert isinstance(error, RequestExpired)
    assert s3_error(error) == s3_error(error).__class__(
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large.",
    )
    assert json_error_code(error) == "InvalidSignatureException"


def test_presigned_url_after_its_expiry() -> None:
    request = sign_with(mint(), signer="query", expires=60)
    error = _fail(request, at=Clock(NOW + timedelta(seconds=61)))
    assert isinstance(error, RequestExpired)
    assert (s3_error(error).code, s3_error(error).message) == (
        "AccessDenied",
        "Request has expired",
    )


@pytest.mark.parametrize(
    ("later", "allowed"),
    [(timedelta(minutes=30), True), (timedelta(minutes=61), False), (timedelta(days=6), False)],
    ids=["inside-session", "session-ended", "days-later"],
)
def test_presigned_url_never_outlives_the_session(later: timedelta, allowed: bool) -> None:
    """Seven days asked for, but the session ends an hour after the URL was signed."""
    request = sign_with(mint(), signer="s3-query", service="s3", expires=604_800)
    at = Clock(NOW + later)
    if allowed:
        assert verifier(at).verify(request, rules=S3_RULES).presigned
    else:
        assert isinstance(_fail(request, at=at, rules=S3_RULES), ExpiredToken)


def test_presigned_expiry_above_seven_days() -> None:
    request = sign_with(mint(), signer="s3-query", service="s3", expires=604_801)
    error = _fail(request, rules=S3_RULES)
    assert isinstance(error, IncompleteSignature)
    assert s3_error_code(error) == "AuthorizationQueryParametersError"
    assert json_error_code(error) == "IncompleteSignatureException"


def test_malformed_header_is_authorization_header_malformed_for_s3() -> None:
    request = _replace_header(sign_with(mint()), "authorization", "AWS4-HMAC-SHA256 Credential=x")
    error = _fail(request)
    assert isinstance(error, IncompleteSignature)
    assert s3_error(error).code == "AuthorizationHeaderMalformed"


# --- S3 rules -----------------------------------------------------------------------------------


def test_s3_paths_are_not_normalised() -> None:
    request = sign_with(mint(), signer="s3", service="s3", path="/bucket/a//b/./c")
    assert verifier().verify(request, rules=S3_RULES).service == "s3"
    assert isinstance(_fail(request, rules=STANDARD_RULES), SignatureDoesNotMatch)


def test_unsigned_payload_only_under_s3_rules() -> None:
    request = sign_with(
        mint(), service="s3", method="PUT", path="/b/k", body=b"data", payload_signing=False
    )
    assert request.header_values("x-amz-content-sha256") == ("UNSIGNED-PAYLOAD",)
    assert verifier().verify(request, rules=S3_RULES).session is not None
    assert isinstance(_fail(request, rules=STANDARD_RULES), XAmzContentSHA256Mismatch)


def test_declared_digest_is_checked_against_a_known_body() -> None:
    request = sign_with(mint(), signer="s3", service="s3", method="PUT", path="/b/k", body=b"data")
    swapped = replace(request, body=b"evil")
    error = _fail(swapped, rules=S3_RULES)
    assert isinstance(error, XAmzContentSHA256Mismatch)
    assert (s3_error_code(error), json_error_code(error)) == (
        "XAmzContentSHA256Mismatch",
        "InvalidSignatureException",
    )
    streaming = replace(S3_RULES, check_declared_payload=False)
    assert verifier().verify(swapped, rules=streaming).session is not None


# --- spelling and rendering ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "s3_code", "s3_status", "json_code"),
    [
        (AccessDenied("no"), "AccessDenied", 403, "AccessDeniedException"),
        (ExpiredToken("old"), "ExpiredToken", 400, "ExpiredTokenException"),
        (SignatureDoesNotMatch("sig"), "SignatureDoesNotMatch", 403, "InvalidSignatureException"),
        (InvalidClientTokenId("who"), "InvalidAccessKeyId", 403, "UnrecognizedClientException"),
        (RequestExpired("late"), "RequestTimeTooSkewed", 403, "InvalidSignatureException"),
        (
            MissingAuthenticationToken("none"),
            "AccessDenied",
            403,
            "MissingAuthenticationTokenException",
        ),
    ],
    ids=["denied", "expired-token", "signature", "unknown-key", "skewed", "missing"],
)
def test_spelling_tables(error: WebfedError, s3_code: str, s3_status: int, json_code: str) -> None:
    assert (s3_error(error).code, s3_error(error).status) == (s3_code, s3_status)
    assert json_error_code(error) == json_code


def test_s3_error_xml() -> None:
    error = AccessDenied("User: <x> & co is not authorized", encoded_message="ENC")
    body = render_s3_error(error, request_id="req-1", resource="/bucket/<key>")
    root = ElementTree.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("Code") == "AccessDenied"
    assert root.findtext("Message") == error.full_message
    assert root.findtext("Resource") == "/bucket/<key>"
    assert root.findtext("RequestId") == "req-1"


# --- properties ---------------------------------------------------------------------------------

_CREDENTIALS = mint()
_REQUEST = sign_with(_CREDENTIALS)


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), char=st.sampled_from("ABCxyz0189-_"))
def test_any_token_change_is_refused(position: int, char: str) -> None:
    token = _CREDENTIALS.session_token
    index = position % len(token)
    if token[index] == char:
        return
    mutated = token[:index] + char + token[index + 1 :]
    request = _replace_header(_REQUEST, "x-amz-security-token", mutated)
    with pytest.raises((InvalidClientTokenId, SignatureDoesNotMatch)):
        verifier().verify(request, rules=STANDARD_RULES)


@settings(max_examples=60, deadline=None)
@given(skew=st.integers(min_value=-3600, max_value=3600))
def test_header_window_is_fifteen_minutes(skew: int) -> None:
    request = sign_with(mint(), signed_at=NOW + timedelta(seconds=skew))
    if abs(skew) <= 900:
        assert verifier().verify(request, rules=STANDARD_RULES).session is not None
    else:
        assert isinstance(_fail(request), RequestExpired)
