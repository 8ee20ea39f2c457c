"""Verification outside the vectors: time windows, payload digests, rules, the key cache."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.unit.sigv4.botocore_signer import Signer, botocore_signed
from tests.unit.sigv4.vectors import SECRET, SIGNED_AT
from webfed.core.sigv4 import (
    S3_RULES,
    SIGNATURE_MISMATCH_MESSAGE,
    STANDARD_RULES,
    HttpRequest,
    SigningKeyCache,
    SigningRules,
    canonical_query_string,
    canonical_uri,
    check_declared_payload,
    check_request_time,
    derive_signing_key,
    hash_payload,
    normalize_path,
    parse_authorization,
    trim_header_value,
    verify_request,
)
from webfed.errors import (
    IncompleteSignature,
    RequestExpired,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)

MINUTE = timedelta(minutes=1)


def signed(signer: Signer = "header", **kwargs: Any) -> HttpRequest:
    return botocore_signed(
        signer=signer, signed_at=SIGNED_AT, access_key_id="AKIAEXAMPLE", secret=SECRET, **kwargs
    )


def verify(
    request: HttpRequest, *, now: datetime = SIGNED_AT, rules: SigningRules = STANDARD_RULES
) -> None:
    verify_request(request, parse_authorization(request), SECRET, now=now, rules=rules)


# --- time windows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), 15 * MINUTE, -15 * MINUTE, 15 * MINUTE - timedelta(seconds=1)],
    ids=["same-instant", "15-min-late", "15-min-early", "just-inside"],
)
def test_header_form_accepts_fifteen_minutes_either_way(offset: timedelta) -> None:
    verify(signed(), now=SIGNED_AT + offset)


def test_header_form_too_old_is_request_expired() -> None:
    with pytest.raises(RequestExpired) as caught:
        verify(signed(), now=SIGNED_AT + 15 * MINUTE + timedelta(seconds=1))
    assert caught.value.code == "RequestExpired"
    assert caught.value.message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
        "(20150830T125101Z - 15 min.)"
    )


def test_header_form_from_the_future_is_request_expired() -> None:
    with pytest.raises(RequestExpired) as caught:
        verify(signed(), now=SIGNED_AT - 16 * MINUTE)
    assert caught.value.message == (
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z "
        "(20150830T122000Z + 15 min.)"
    )


def test_custom_skew_is_honoured() -> None:
    request = signed()
    parsed = parse_authorization(request)
    with pytest.raises(RequestExpired, match="5 min"):
        check_request_time(parsed, now=SIGNED_AT + 6 * MINUTE, max_skew=5 * MINUTE)


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), timedelta(seconds=60)],
    ids=["at-signing", "at-expiry"],
)
def test_presigned_window_is_inclusive(offset: timedelta) -> None:
    verify(signed("query", expires=60), now=SIGNED_AT + offset)


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (timedelta(seconds=61), "Request has expired."),
        (timedelta(seconds=-1), "Request is not valid yet."),
    ],
    ids=["after-expiry", "before-signing"],
)
def test_presigned_outside_window_is_request_expired(offset: timedelta, message: str) -> None:
    with pytest.raises(RequestExpired) as caught:
        verify(signed("query", expires=60), now=SIGNED_AT + offset)
    assert caught.value.message == message


def test_presigned_week_long_url_is_valid_for_a_week() -> None:
    request = signed("query", expires=604_800)
    verify(request, now=SIGNED_AT + timedelta(days=7))
    with pytest.raises(RequestExpired):
        verify(request, now=SIGNED_AT + timedelta(days=7, seconds=1))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(signed(), now=SIGNED_AT.replace(tzinfo=None))


# --- signature failures -----------------------------------------------------------------------


def test_wrong_secret_is_signature_does_not_match_without_the_secret() -> None:
    request = signed()
    wrong = "x" + SECRET[1:]
    with pytest.raises(SignatureDoesNotMatch) as caught:
        verify_request(
            request, parse_authorization(request), wrong, now=SIGNED_AT, rules=STANDARD_RULES
        )
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.wire_json_code == "InvalidSignatureException"
    assert caught.value.status == 403
    assert caught.value.message == SIGNATURE_MISMATCH_MESSAGE
    assert wrong not in repr(caught.value)
    assert SECRET not in repr(caught.value)


def test_missing_signed_header_is_signature_does_not_match() -> None:
    request = signed(headers=[("X-Custom", "v")])
    stripped = replace(
        request, headers=tuple(item for item in request.headers if item[0] != "X-Custom")
    )
    assert "x-custom" in parse_authorization(stripped).signed_headers
    with pytest.raises(SignatureDoesNotMatch, match="missing from the request"):
        verify(stripped)


def test_unsigned_extra_headers_and_parameters_do_not_matter() -> None:
    request = signed()
    extra = replace(request, headers=(*request.headers, ("User-Agent", "anything")))
    verify(extra)


def test_added_query_parameter_is_rejected() -> None:
    request = signed(params=[("Action", "GetCallerIdentity")])
    with pytest.raises(SignatureDoesNotMatch):
        verify(replace(request, raw_query=request.raw_query + "&Version=2011-06-15"))


def test_session_token_swap_is_rejected_when_signed() -> None:
    request = signed(token="token-one")
    swapped = tuple(
        (name, "token-two" if name == "X-Amz-Security-Token" else value)
        for name, value in request.headers
    )
    with pytest.raises(SignatureDoesNotMatch):
        verify(replace(request, headers=swapped))


def test_scope_service_and_region_are_signed() -> None:
    request = signed(service="sts", region="eu-west-1")
    parsed = parse_authorization(request)
    for changed in (replace(parsed, service="iam"), replace(parsed, region="us-east-1")):
        with pytest.raises(SignatureDoesNotMatch):
            verify_request(request, changed, SECRET, now=SIGNED_AT, rules=STANDARD_RULES)


# --- payload ----------------------------------------------------------------------------------


def test_unsigned_payload_is_refused_by_standard_rules() -> None:
    request = signed(payload_signing=False, method="POST", body=b"Action=X")
    assert request.header_values("x-amz-content-sha256") == ("UNSIGNED-PAYLOAD",)
    with pytest.raises(XAmzContentSHA256Mismatch):
        verify(request)
    verify(request, rules=replace(STANDARD_RULES, allow_unsigned_payload=True))


def test_s3_declared_digest_must_match_the_body() -> None:
    request = signed("s3", service="s3", method="PUT", path="/bucket/key", body=b"data")
    verify(request, rules=S3_RULES)
    with pytest.raises(XAmzContentSHA256Mismatch) as caught:
        verify(replace(request, body=b"date"), rules=S3_RULES)
    assert caught.value.code == "XAmzContentSHA256Mismatch"
    assert caught.value.status == 400
    streamed = replace(S3_RULES, check_declared_payload=False)
    verify(replace(request, body=b""), rules=streamed)


def _with_declared(request: HttpRequest, *values: str) -> HttpRequest:
    kept = tuple(item for item in request.headers if item[0].lower() != "x-amz-content-sha256")
    return replace(request, headers=kept + tuple(("x-amz-content-sha256", v) for v in values))


def test_streaming_payload_is_refused() -> None:
    request = signed("s3", service="s3", method="PUT", path="/b/k", body=b"data")
    streaming = _with_declared(request, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    parsed = parse_authorization(streaming)
    with pytest.raises(XAmzContentSHA256Mismatch, match="UNSIGNED-PAYLOAD"):
        check_declared_payload(streaming, S3_RULES)
    with pytest.raises((SignatureDoesNotMatch, XAmzContentSHA256Mismatch)):
        verify_request(streaming, parsed, SECRET, now=SIGNED_AT, rules=S3_RULES)


def test_repeated_declared_digest_is_incomplete_signature() -> None:
    request = signed("s3", service="s3", method="PUT", path="/b/k", body=b"data")
    digest = hash_payload(b"data")
    with pytest.raises(IncompleteSignature):
        check_declared_payload(_with_declared(request, digest, digest), S3_RULES)


def test_hash_payload_is_hex_sha256() -> None:
    assert hash_payload(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert hash_payload(b"Param1=value1") == (
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    )


# --- canonical pieces -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("", "/"),
        ("//a//b//", "/a/b/"),
        ("/a/./b", "/a/b"),
        ("/a/../../b", "/b"),
        ("/a/b/..", "/a"),
        ("/a/b/../", "/a/"),
        ("/a/.", "/a"),
        ("/..", "/"),
    ],
    ids=[
        "root",
        "empty",
        "slashes",
        "dot",
        "dotdot-above-root",
        "trailing-dotdot",
        "dotdot-slash",
        "trailing-dot",
        "only-dotdot",
    ],
)
def test_normalize_path(path: str, expected: str) -> None:
    assert normalize_path(path or "/") == expected


@pytest.mark.parametrize(
    ("raw", "standard", "s3"),
    [
        ("/a%20b", "/a%2520b", "/a%20b"),
        ("/a b", "/a%20b", "/a%20b"),
        ("/a//b/../c", "/a/c", "/a//b/../c"),
        ("/%E1%88%b4", "/%25E1%2588%25b4", "/%E1%88%b4"),
        ("/ሴ", "/%E1%88%B4", "/%E1%88%B4"),
        ("/a!b", "/a%21b", "/a%21b"),
        ("/100%", "/100%25", "/100%25"),
        ("/\udcff", "/%FF", "/%FF"),
        ("", "/", "/"),
    ],
    ids=[
        "encoded-space",
        "raw-space",
        "dots",
        "lower-hex",
        "raw-utf8",
        "sub-delim",
        "lone-percent",
        "raw-invalid-byte",
        "empty",
    ],
)
def test_canonical_uri_per_rules(raw: str, standard: str, s3: str) -> None:
    assert canonical_uri(raw, STANDARD_RULES) == standard
    assert canonical_uri(raw, S3_RULES) == s3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=", "a=&a=1&a=2"),
        ("flag", "flag="),
        ("a=x+y&b=%2B", "a=x%20y&b=%2B"),
        ("a=%7e&%41=1", "A=1&a=~"),
        ("a=1&&b=2&", "a=1&b=2"),
        ("k=a=b", "k=a%3Db"),
        ("X-Amz-Signature=s&a=1", "a=1"),
    ],
    ids=[
        "empty",
        "sorted",
        "repeated-keys",
        "no-equals",
        "plus-is-space",
        "re-encoded",
        "empty-items",
        "equals-in-value",
        "signature-excluded",
    ],
)
def test_canonical_query_string(raw: str, expected: str) -> None:
    assert canonical_query_string(raw, exclude=["X-Amz-Signature"]) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  a   b  ", "a b"), ("a\n  b\t\tc", "a b c"), ("", ""), ('"a   b"', '"a b"')],
    ids=["spaces", "folded-lines-and-tabs", "empty", "quoted"],
)
def test_trim_header_value(value: str, expected: str) -> None:
    assert trim_header_value(value) == expected


# --- signing key cache ------------------------------------------------------------------------


def test_derive_signing_key_matches_aws_example() -> None:
    # AWS's documented example key for 20150830/us-east-1/iam.
    key = derive_signing_key(SECRET, "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


def test_key_cache_is_bounded_and_reuses_keys() -> None:
    cache = SigningKeyCache(maxsize=2)
    first = cache.signing_key(SECRET, "20150830", "us-east-1", "sts")
    assert cache.signing_key(SECRET, "20150830", "us-east-1", "sts") is first
    cache.signing_key(SECRET, "20150831", "us-east-1", "sts")
    cache.signing_key(SECRET, "20150832", "us-east-1", "sts")
    assert len(cache) == 2
    assert cache.signing_key(SECRET, "20150830", "us-east-1", "sts") is not first
    assert first == derive_signing_key(SECRET, "20150830", "us-east-1", "sts")
    assert SECRET not in repr(cache)
    assert repr(cache) == "SigningKeyCache(2/2 entries)"


def test_key_cache_rejects_zero_size() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        SigningKeyCache(maxsize=0)


def test_verify_uses_the_given_cache() -> None:
    cache = SigningKeyCache()
    request = signed()
    verify_request(
        request,
        parse_authorization(request),
        SECRET,
        now=SIGNED_AT,
        rules=STANDARD_RULES,
        key_cache=cache,
    )
    assert len(cache) == 1
