"""The parsing and signing shortcuts give exactly the answers of the definitions they replace.

The one-match reading of the usual ``Authorization`` spelling, the C timestamp parser, the
memoised credential/signed-header/timestamp readings and the cached RFC 2104 HMAC state are each
checked against the tolerant parser, the plain definition or published vectors (RFC 4231,
FIPS 180), then with Hypothesis.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import webfed.core.sigv4.authorization as authorization_module
import webfed.core.sigv4.signing as signing_module
from webfed.core.sigv4 import (
    HttpRequest,
    ParsedAuthorization,
    SigningKeyCache,
    canonical_query_string,
    compute_signature,
    derive_signing_key,
    hash_payload,
    parse_amz_date,
    parse_authorization,
)
from webfed.errors import IncompleteSignature, WebfedError

FAST_SETTINGS = settings(max_examples=300, deadline=None)


# --- parsing shortcuts ------------------------------------------------------------------------


def reference_amz_date(text: str) -> datetime | None:
    """The definition: ``YYYYMMDDTHHMMSSZ`` in ASCII digits naming a real UTC second."""
    if re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", text) is None:
        return None
    fields = (text[0:4], text[4:6], text[6:8], text[9:11], text[11:13], text[13:15])
    year, month, day, hour, minute, second = (int(field) for field in fields)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def parsed_amz_date(text: str) -> datetime | None:
    try:
        return parse_amz_date(text)
    except IncompleteSignature:
        return None


AMZ_DATES = [
    "20150830T123600Z",
    "20240229T235959Z",
    "20230229T000000Z",
    "20151330T000000Z",
    "20150830T240000Z",
    "20150830T236000Z",
    "20150830T123660Z",
    "20150830T123600",
    "2015-08-30T12:36:00Z",
    "20150830t123600z",
    "\u0662\u0660\u0661\u06650830T123600Z",  # Arabic-Indic digits
    "20150830T123600+0000",
    "00000101T000000Z",
]


@pytest.mark.parametrize("text", AMZ_DATES, ids=[ascii(text) for text in AMZ_DATES])
def test_amz_date_agrees_on_edges(text: str) -> None:
    parsed = parsed_amz_date(text)
    assert parsed == reference_amz_date(text)
    assert parsed is None or parsed.tzinfo is UTC


@FAST_SETTINGS
@given(
    text=st.from_regex(r"[0-9]{8}T[0-9]{6}Z", fullmatch=True)
    | st.text(alphabet=st.sampled_from(list("0123456789TZ+-:.")), max_size=18)
)
def test_amz_date_agrees(text: str) -> None:
    assert parsed_amz_date(text) == reference_amz_date(text)


def header_request(authorization: str) -> HttpRequest:
    headers = (("Host", "h"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", authorization))
    return HttpRequest("GET", "/", "", headers)


CREDENTIAL = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
SPELLINGS = {
    "sdk": f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date, "
    f"Signature={SIGNATURE}",
    "no-spaces": f"AWS4-HMAC-SHA256 Credential={CREDENTIAL},SignedHeaders=host;x-amz-date,"
    f"Signature={SIGNATURE}",
    "wide-spaces": f"AWS4-HMAC-SHA256   Credential={CREDENTIAL} ,  SignedHeaders=host;x-amz-date"
    f",Signature={SIGNATURE}  ",
    "other-order": f"AWS4-HMAC-SHA256 Signature={SIGNATURE}, Credential={CREDENTIAL}, "
    "SignedHeaders=host;x-amz-date",
    "leading-space": f" AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date, "
    f"Signature={SIGNATURE}",
    "tab-after-algorithm": f"AWS4-HMAC-SHA256\tCredential={CREDENTIAL}, "
    f"SignedHeaders=host;x-amz-date, Signature={SIGNATURE}",
}


@pytest.mark.parametrize("name", list(SPELLINGS), ids=list(SPELLINGS))
def test_every_spelling_parses_the_same(name: str) -> None:
    expected = parse_authorization(header_request(SPELLINGS["sdk"]))
    assert parse_authorization(header_request(SPELLINGS[name])) == expected
    assert expected.signed_headers == ("host", "x-amz-date")
    assert expected.credential_scope == "20150830/us-east-1/service/aws4_request"


def parse_outcome(request: HttpRequest) -> ParsedAuthorization | str:
    try:
        return parse_authorization(request)
    except WebfedError as error:
        return f"{error.code}: {error.message}"


def tolerant_outcome(authorization: str) -> ParsedAuthorization | str:
    """The same header through the tolerant parser only (the one-match shortcut disabled)."""
    with mock.patch.object(authorization_module, "_USUAL_HEADER", re.compile(r"(?!)")):
        return parse_outcome(header_request(authorization))


credential_part = st.sampled_from(
    [CREDENTIAL, "AKID/20150830/us-east-1/s3/aws4_request", "A/2015/x/y/aws4_request", "x"]
)
header_part = st.sampled_from(["host", "host;x-amz-date", "Host", "x-amz-date", "host;host", ""])
separator = st.sampled_from([", ", ",", " , ", ",  ", ", \t"])


@FAST_SETTINGS
@given(
    credential=credential_part,
    signed=header_part,
    signature=st.sampled_from([SIGNATURE, "zz", "", "a=b"]),
    first=separator,
    second=separator,
    algorithm=st.sampled_from(
        ["AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256  ", " AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA1 ", ""]
    ),
)
def test_the_one_match_shortcut_agrees_with_the_tolerant_parser(
    credential: str, signed: str, signature: str, first: str, second: str, algorithm: str
) -> None:
    authorization = (
        f"{algorithm}Credential={credential}{first}SignedHeaders={signed}{second}"
        f"Signature={signature}"
    )
    assert parse_outcome(header_request(authorization)) == tolerant_outcome(authorization)


# --- signing ----------------------------------------------------------------------------------


@FAST_SETTINGS
@given(
    secret=st.text(min_size=1, max_size=40),
    texts=st.lists(st.text(max_size=200), min_size=1, max_size=3),
)
def test_the_cached_hmac_state_signs_like_compute_signature(secret: str, texts: list[str]) -> None:
    cache = SigningKeyCache(maxsize=2)
    key = derive_signing_key(secret, "20150830", "us-east-1", "service")
    for text in texts:  # each signature starts from the bare key state: nothing carries over
        signed = cache.signature(secret, "20150830", "us-east-1", "service", text)
        assert signed == compute_signature(key, text)
        assert signed == hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    assert cache.signing_key(secret, "20150830", "us-east-1", "service") == key


@FAST_SETTINGS
@given(key=st.binary(max_size=200), message=st.binary(max_size=300))
def test_keyed_hmac_is_rfc_2104_for_any_key_length(key: bytes, message: bytes) -> None:
    keyed = signing_module._KeyedHmacSha256(key)
    assert keyed.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert keyed.hexdigest(message) == keyed.hexdigest(message)
    assert repr(keyed) == "_KeyedHmacSha256(<key hidden>)"


RFC_4231 = {
    "case-1": (
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    "case-2": (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    "case-6-key-longer-than-block": (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
}


@pytest.mark.parametrize("case", list(RFC_4231), ids=list(RFC_4231))
def test_rfc_4231_vectors(case: str) -> None:
    """Published HMAC-SHA-256 vectors (RFC 4231 section 4)."""
    key, message, expected = RFC_4231[case]
    assert signing_module._KeyedHmacSha256(key).hexdigest(message) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ],
    ids=["empty-body", "fips-180-abc"],
)
def test_payload_hash_vectors(body: bytes, expected: str) -> None:
    assert hash_payload(body) == expected


def test_empty_query_is_the_empty_line() -> None:
    assert canonical_query_string("") == ""
    assert canonical_query_string("&") == ""


# --- memoised readings ------------------------------------------------------------------------

MODULE = authorization_module
MEMOISED = {
    "credential": (MODULE._parse_credential, CREDENTIAL, "AKID/2015/x/y/aws4_request"),
    "signed-headers": (MODULE._parse_signed_headers, "host;x-amz-date", "Host"),
    "timestamp": (MODULE._basic_timestamp, "20150830T123600Z", "20150830T240000Z"),
}


@pytest.mark.parametrize("name", list(MEMOISED), ids=list(MEMOISED))
def test_memoised_readings_equal_fresh_ones_and_never_store_a_refusal(name: str) -> None:
    reader, good, bad = MEMOISED[name]
    assert reader(good) == reader.__wrapped__(good)
    stored = reader.cache_info().currsize
    for _ in range(3):  # refused every time, fully re-checked, never remembered
        with pytest.raises((IncompleteSignature, ValueError)):
            reader(bad)
    assert reader.cache_info().currsize == stored


def unmemoised_outcome(request: HttpRequest) -> ParsedAuthorization | str:
    with (
        mock.patch.object(MODULE, "_parse_credential", MODULE._parse_credential.__wrapped__),
        mock.patch.object(
            MODULE, "_parse_signed_headers", MODULE._parse_signed_headers.__wrapped__
        ),
        mock.patch.object(MODULE, "_basic_timestamp", MODULE._basic_timestamp.__wrapped__),
    ):
        return parse_outcome(request)


@FAST_SETTINGS
@given(
    credential=st.text(alphabet=st.sampled_from(list("AKID/0123aws4_request-")), max_size=40),
    signed=st.text(alphabet=st.sampled_from(list("host;x-amzdte")), max_size=24),
    date=st.sampled_from(["20150830T123600Z", "20150830T240000Z", "2015"]),
)
def test_memoised_parsing_agrees_with_fresh_parsing(
    credential: str, signed: str, date: str
) -> None:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature=ab"
    )
    headers = (("Host", "h"), ("X-Amz-Date", date), ("Authorization", authorization))
    request = HttpRequest("GET", "/", "", headers)
    for _ in range(2):  # the second reading comes from the memo when the first was stored
        assert parse_outcome(request) == unmemoised_outcome(request)
