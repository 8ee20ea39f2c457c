"""Negative and tolerance cases of :func:`parse_authorization`, each with its AWS code."""

from __future__ import annotations

import pytest

from webfed.core.sigv4 import HttpRequest, parse_authorization
from webfed.errors import IncompleteSignature, MissingAuthenticationToken, WebfedError

SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
CREDENTIAL = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
AMZ_DATE = "20150830T123600Z"
GOOD_AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date, "
    f"Signature={SIGNATURE}"
)
GOOD_QUERY = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": CREDENTIAL.replace("/", "%2F"),
    "X-Amz-Date": AMZ_DATE,
    "X-Amz-Expires": "3600",
    "X-Amz-SignedHeaders": "host",
    "X-Amz-Signature": SIGNATURE,
}


def header_request(authorization: str | None, *extra: tuple[str, str]) -> HttpRequest:
    headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", AMZ_DATE), *extra]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    return HttpRequest("GET", "/", "", tuple(headers))


def query_request(**overrides: str | None) -> HttpRequest:
    params = {**GOOD_QUERY, **{key.replace("_", "-"): value for key, value in overrides.items()}}
    raw_query = "&".join(f"{key}={value}" for key, value in params.items() if value is not None)
    return HttpRequest("GET", "/", raw_query, (("Host", "example.amazonaws.com"),))


# --- accepted spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        GOOD_AUTHORIZATION,
        GOOD_AUTHORIZATION.replace(", ", ","),
        GOOD_AUTHORIZATION.replace(", ", " ,  "),
        GOOD_AUTHORIZATION.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256\t  "),
        "  " + GOOD_AUTHORIZATION + "  ",
        GOOD_AUTHORIZATION.replace("Credential=", "Credential = "),
        f"AWS4-HMAC-SHA256 Signature={SIGNATURE}, SignedHeaders=host;x-amz-date, "
        f"Credential={CREDENTIAL}",
        GOOD_AUTHORIZATION + ",",
    ],
    ids=[
        "botocore",
        "no-space-after-comma",
        "space-before-comma",
        "tab-after-algorithm",
        "outer-whitespace",
        "space-around-equals",
        "reordered",
        "trailing-comma",
    ],
)
def test_header_spelling_variants_parse_the_same(authorization: str) -> None:
    parsed = parse_authorization(header_request(authorization))
    assert parsed.access_key_id == "AKIDEXAMPLE"
    assert (parsed.scope_date, parsed.region, parsed.service) == (
        "20150830",
        "us-east-1",
        "service",
    )
    assert parsed.signed_headers == ("host", "x-amz-date")
    assert parsed.signature == SIGNATURE
    assert parsed.amz_date == AMZ_DATE
    assert not parsed.presigned
    assert parsed.expires is None
    assert parsed.security_token is None
    assert parsed.credential_scope == "20150830/us-east-1/service/aws4_request"


def test_presigned_query_parses() -> None:
    parsed = parse_authorization(query_request(X_Amz_Security_Token="tok%2Ben%2F%3D"))
    assert parsed.presigned
    assert parsed.expires == 3600
    assert parsed.signed_headers == ("host",)
    assert parsed.security_token == "tok+en/="


def test_security_token_never_in_repr() -> None:
    token = "SECRET-SESSION-TOKEN-VALUE"
    request = header_request(GOOD_AUTHORIZATION, ("X-Amz-Security-Token", token))
    parsed = parse_authorization(request)
    assert parsed.security_token == token
    assert token not in repr(parsed)
    assert token not in repr(request)


# --- MissingAuthenticationToken ---------------------------------------------------------------


def test_no_authentication_at_all() -> None:
    with pytest.raises(MissingAuthenticationToken) as caught:
        parse_authorization(header_request(None))
    assert caught.value.code == "MissingAuthenticationToken"
    assert caught.value.status == 403
    assert caught.value.message == "Request is missing Authentication Token"


def test_unrelated_query_parameters_are_not_authentication() -> None:
    request = HttpRequest("GET", "/", "Action=GetCallerIdentity&X-Amz-Date=x", ())
    with pytest.raises(MissingAuthenticationToken):
        parse_authorization(request)


# --- IncompleteSignature: header form ---------------------------------------------------------

HEADER_FAILURES = {
    "empty": ("", "algorithm"),
    "wrong-algorithm": (GOOD_AUTHORIZATION.replace("SHA256", "SHA512", 1), "algorithm"),
    "sigv2": ("AWS AKIDEXAMPLE:c2lnbmF0dXJl", "algorithm"),
    "bearer": ("Bearer abc.def.ghi", "algorithm"),
    "algorithm-only": ("AWS4-HMAC-SHA256", "requires 'Credential'"),
    "no-signature": (
        f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date",
        "Authorization header requires 'Signature' parameter.",
    ),
    "no-credential": (
        f"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={SIGNATURE}",
        "Authorization header requires 'Credential' parameter.",
    ),
    "no-signed-headers": (
        f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, Signature={SIGNATURE}",
        "Authorization header requires 'SignedHeaders' parameter.",
    ),
    "missing-equals": (GOOD_AUTHORIZATION.replace("Signature=", "Signature "), "equal-sign"),
    "unknown-parameter": (GOOD_AUTHORIZATION + ", Extra=1", "must be Credential"),
    "repeated-parameter": (GOOD_AUTHORIZATION + f", Signature={SIGNATURE}", "repeats"),
    "credential-too-few-parts": (
        GOOD_AUTHORIZATION.replace(CREDENTIAL, "AKIDEXAMPLE/20150830/us-east-1/service"),
        "ACCESS_KEY_ID/YYYYMMDD",
    ),
    "bad-terminator": (
        GOOD_AUTHORIZATION.replace("aws4_request", "aws4_requesT"),
        "valid terminator: 'aws4_request'",
    ),
    "empty-access-key": (GOOD_AUTHORIZATION.replace("AKIDEXAMPLE", ""), "access key id"),
    "bad-scope-date": (GOOD_AUTHORIZATION.replace("20150830/", "2015-08-30/"), "YYYYMMDD"),
    "empty-region": (GOOD_AUTHORIZATION.replace("/us-east-1/", "//"), "valid region"),
    "bad-service": (GOOD_AUTHORIZATION.replace("/service/", "/serv ice/"), "valid service"),
    "host-not-signed": (
        GOOD_AUTHORIZATION.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date"),
        "'host'",
    ),
    "upper-case-signed-header": (GOOD_AUTHORIZATION.replace("host;", "Host;"), "lower-case"),
    "empty-signed-header": (GOOD_AUTHORIZATION.replace("host;", "host;;"), "lower-case"),
    "repeated-signed-header": (GOOD_AUTHORIZATION.replace("host;", "host;host;"), "twice"),
    "empty-signature": (GOOD_AUTHORIZATION.replace(SIGNATURE, ""), "hexadecimal"),
    "non-hex-signature": (GOOD_AUTHORIZATION.replace(SIGNATURE, "zz/+"), "hexadecimal"),
    "too-long": (GOOD_AUTHORIZATION + " " * 9000, "too long"),
}


@pytest.mark.parametrize("name", list(HEADER_FAILURES), ids=list(HEADER_FAILURES))
def test_malformed_header_is_incomplete_signature(name: str) -> None:
    authorization, fragment = HEADER_FAILURES[name]
    with pytest.raises(IncompleteSignature) as caught:
        parse_authorization(header_request(authorization))
    assert caught.value.code == "IncompleteSignature"
    assert caught.value.status == 400
    assert fragment in caught.value.message


def _without_date(authorization: str) -> HttpRequest:
    return HttpRequest(
        "GET", "/", "", (("Host", "example.amazonaws.com"), ("Authorization", authorization))
    )


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (_without_date(GOOD_AUTHORIZATION), "'X-Amz-Date' header"),
        (header_request(GOOD_AUTHORIZATION, ("X-Amz-Date", AMZ_DATE)), "one X-Amz-Date"),
        (
            header_request(GOOD_AUTHORIZATION, ("Authorization", GOOD_AUTHORIZATION)),
            "one Authorization",
        ),
        (
            header_request(
                GOOD_AUTHORIZATION, ("X-Amz-Security-Token", "a"), ("X-Amz-Security-Token", "b")
            ),
            "one X-Amz-Security-Token",
        ),
        (
            HttpRequest(
                "GET",
                "/",
                "",
                (("X-Amz-Date", "20150831T123600Z"), ("Authorization", GOOD_AUTHORIZATION)),
            ),
            "'20150830' != '20150831', from '20150831T123600Z'",
        ),
        (
            HttpRequest(
                "GET",
                "/",
                "",
                (("X-Amz-Date", "20150830T123600"), ("Authorization", GOOD_AUTHORIZATION)),
            ),
            "ISO 8601",
        ),
        (
            HttpRequest(
                "GET",
                "/",
                "",
                (("X-Amz-Date", "20150230T123600Z"), ("Authorization", GOOD_AUTHORIZATION)),
            ),
            "ISO 8601",
        ),
        (
            HttpRequest(
                "GET",
                "/",
                "X-Amz-Algorithm=AWS4-HMAC-SHA256",
                header_request(GOOD_AUTHORIZATION).headers,
            ),
            "Only one auth mechanism allowed",
        ),
    ],
    ids=[
        "missing-x-amz-date",
        "repeated-x-amz-date",
        "repeated-authorization",
        "repeated-security-token",
        "scope-date-differs",
        "x-amz-date-without-zone",
        "x-amz-date-impossible-day",
        "header-and-query-auth",
    ],
)
def test_header_context_failures(request_: HttpRequest, fragment: str) -> None:
    with pytest.raises(IncompleteSignature) as caught:
        parse_authorization(request_)
    assert fragment in caught.value.message


# --- IncompleteSignature: presigned query form ------------------------------------------------

QUERY_FAILURES: dict[str, tuple[dict[str, str | None], str]] = {
    "no-algorithm": ({"X_Amz_Algorithm": None}, "must include 'X-Amz-Algorithm'"),
    "no-credential": ({"X_Amz_Credential": None}, "must include 'X-Amz-Credential'"),
    "no-date": ({"X_Amz_Date": None}, "must include 'X-Amz-Date'"),
    "no-expires": ({"X_Amz_Expires": None}, "must include 'X-Amz-Expires'"),
    "no-signed-headers": ({"X_Amz_SignedHeaders": None}, "must include 'X-Amz-SignedHeaders'"),
    "no-signature": ({"X_Amz_Signature": None}, "must include 'X-Amz-Signature'"),
    "wrong-algorithm": ({"X_Amz_Algorithm": "AWS4-HMAC-SHA1"}, "only supports"),
    "expires-zero": ({"X_Amz_Expires": "0"}, "at least 1"),
    "expires-negative": ({"X_Amz_Expires": "-5"}, "at least 1"),
    "expires-not-a-number": ({"X_Amz_Expires": "1h"}, "at least 1"),
    "expires-over-a-week": ({"X_Amz_Expires": "604801"}, "604800"),
    "host-not-signed": ({"X_Amz_SignedHeaders": "x-amz-date"}, "'host'"),
    "bad-terminator": (
        {"X_Amz_Credential": "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4"},
        "terminator",
    ),
    "scope-date-differs": ({"X_Amz_Date": "20150831T000000Z"}, "does not match"),
    "bad-date": ({"X_Amz_Date": "2015-08-30T12:36:00Z"}, "ISO 8601"),
    "invalid-utf8-credential": ({"X_Amz_Credential": "%FF%FE"}, "ACCESS_KEY_ID/YYYYMMDD"),
}


@pytest.mark.parametrize("name", list(QUERY_FAILURES), ids=list(QUERY_FAILURES))
def test_malformed_presigned_query_is_incomplete_signature(name: str) -> None:
    overrides, fragment = QUERY_FAILURES[name]
    with pytest.raises(IncompleteSignature) as caught:
        parse_authorization(query_request(**overrides))
    assert fragment in caught.value.message


def test_repeated_presigned_parameter_is_incomplete_signature() -> None:
    request = query_request()
    doubled = HttpRequest("GET", "/", request.raw_query + "&X-Amz-Expires=60", request.headers)
    with pytest.raises(IncompleteSignature, match="repeats"):
        parse_authorization(doubled)


def test_messages_never_echo_the_session_token() -> None:
    token = "TOKEN-THAT-MUST-NOT-LEAK"
    for request in (
        header_request("garbage", ("X-Amz-Security-Token", token)),
        query_request(X_Amz_Security_Token=token, X_Amz_Expires="0"),
    ):
        with pytest.raises(WebfedError) as caught:
            parse_authorization(request)
        assert token not in caught.value.message
        assert token not in repr(caught.value)
