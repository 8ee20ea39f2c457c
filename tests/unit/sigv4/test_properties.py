"""Property tests: whatever botocore's real signers sign, the verifier accepts, and one changed
byte anywhere that is signed makes it refuse. Parsing never fails with anything but a
WebfedError."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sigv4.botocore_signer import Signer, botocore_signed
from tests.unit.sigv4.vectors import flip_last_character, replace_header
from webfed.core.sigv4 import (
    S3_RULES,
    STANDARD_RULES,
    HttpRequest,
    SigningRules,
    parse_authorization,
    verify_request,
)
from webfed.errors import SignatureDoesNotMatch, WebfedError, XAmzContentSHA256Mismatch

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
RULES: dict[Signer, SigningRules] = {
    "header": STANDARD_RULES,
    "query": STANDARD_RULES,
    "s3": S3_RULES,
    "s3-query": S3_RULES,
}
SUB_DELIMITERS = "!$&'()*+,;=:@"

segment_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8
) | st.sampled_from(["", ".", "..", "a b", "~x", "%", "+", "ሴ", "é"])
query_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["", "a b", "+", "%2B", "=", "&", "ሴ"]
)
header_value = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 \t  ,;:=\"'()!#$%&*+-./<>?@[]\\^_`{|}~")),
    max_size=24,
)
header_name = st.sampled_from(["X-Test-One", "x-test-two", "X-TEST-THREE", "x-Test-4!"])
secret_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=UTC)
)


@dataclass(frozen=True)
class Case:
    signer: Signer
    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    token: str | None
    secret: str
    signed_at: datetime
    elapsed: timedelta


@st.composite
def wire_paths(draw: st.DrawFn, *, raw_sub_delimiters: bool) -> str:
    """A path as a client puts it on the wire: each segment percent-encoded (leaving RFC 3986
    sub-delimiters raw when allowed, as many clients do)."""
    safe = SUB_DELIMITERS if raw_sub_delimiters and draw(st.booleans()) else ""
    segments = draw(st.lists(segment_text, max_size=5))
    return "/" + "/".join(quote(segment, safe=safe) for segment in segments)


@st.composite
def cases(draw: st.DrawFn, signer: Signer) -> Case:
    presigned = signer.endswith("query")
    params = draw(
        st.lists(
            st.tuples(query_text, query_text).filter(
                lambda pair: not pair[0].lower().startswith("x-amz-")
            ),
            max_size=5,
        )
    )
    repeat_a_key: bool = draw(st.booleans())
    if params and repeat_a_key:
        params.append((params[0][0], draw(query_text)))  # a repeated key
    signed_at = draw(instants)
    return Case(
        signer=signer,
        method=draw(st.sampled_from(["GET", "PUT", "DELETE"] if presigned else ["POST", "PUT"])),
        path=draw(wire_paths(raw_sub_delimiters=not signer.startswith("s3"))),
        params=tuple(params),
        headers=tuple(draw(st.lists(st.tuples(header_name, header_value), max_size=5))),
        body=b"" if presigned else draw(st.binary(max_size=64)),
        token=draw(st.none() | st.text(alphabet="AQoDYXdz+/=0123456789", min_size=1)),
        secret=draw(secret_text),
        signed_at=signed_at,
        elapsed=timedelta(seconds=draw(st.integers(0 if presigned else -900, 900))),
    )


def sign(case: Case) -> HttpRequest:
    return botocore_signed(
        signer=case.signer,
        signed_at=case.signed_at,
        access_key_id="AKIAEXAMPLE",
        secret=case.secret,
        service="s3" if case.signer.startswith("s3") else "sts",
        method=case.method,
        path=case.path,
        params=case.params,
        headers=case.headers,
        body=case.body,
        token=case.token,
        scheme="https",
    )


def verify(case: Case, request: HttpRequest) -> None:
    verify_request(
        request,
        parse_authorization(request),
        case.secret,
        now=case.signed_at + case.elapsed,
        rules=RULES[case.signer],
    )


SIGNERS: list[Signer] = ["header", "query", "s3", "s3-query"]


@pytest.mark.parametrize("signer", SIGNERS, ids=SIGNERS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_botocore_signed_requests_verify(signer: Signer, data: st.DataObject) -> None:
    case = data.draw(cases(signer))
    request = sign(case)
    verify(case, request)
    parsed = parse_authorization(request)
    assert parsed.security_token == case.token
    assert parsed.presigned is signer.endswith("query")


@pytest.mark.parametrize("signer", SIGNERS, ids=SIGNERS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_one_changed_byte_is_rejected(signer: Signer, data: st.DataObject) -> None:
    case = data.draw(cases(signer))
    request = sign(case)
    parsed = parse_authorization(request)
    now = case.signed_at + case.elapsed
    rules = RULES[signer]
    tampered_signature = replace(parsed, signature=flip_last_character(parsed.signature))
    with pytest.raises(SignatureDoesNotMatch):
        verify_request(request, tampered_signature, case.secret, now=now, rules=rules)
    for tampered in _tampered_requests(request, case):
        with pytest.raises((SignatureDoesNotMatch, XAmzContentSHA256Mismatch)):
            verify_request(
                tampered, parse_authorization(tampered), case.secret, now=now, rules=rules
            )


def _tampered_requests(request: HttpRequest, case: Case) -> list[HttpRequest]:
    host = request.header_values("host")[0]
    tampered = [
        replace_header(request, "host", host + "x"),
        replace(request, raw_path=request.raw_path + "x"),
    ]
    if case.headers:
        name, _ = case.headers[0]
        value = request.header_values(name)[0]
        tampered.append(replace_header(request, name, value + "x"))
    if case.body:
        flipped = bytes([case.body[0] ^ 0x01]) + case.body[1:]
        tampered.append(replace(request, body=flipped))
    return tampered


# --- parsing and verifying arbitrary input ----------------------------------------------------

auth_fragments = st.sampled_from(
    [
        "AWS4-HMAC-SHA256",
        " ",
        ",",
        "=",
        ";",
        "/",
        "Credential=",
        "SignedHeaders=",
        "Signature=",
        "AKID/20150830/us-east-1/sts/aws4_request",
        "host;x-amz-date",
        "deadbeef",
    ]
)
auth_values = st.lists(auth_fragments | st.text(max_size=6), max_size=12).map("".join)
query_keys = st.sampled_from(
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "Action",
        "%58-Amz-Date",
    ]
)
query_values = st.sampled_from(
    [
        "AWS4-HMAC-SHA256",
        "20150830T123600Z",
        "3600",
        "host",
        "AKID%2F20150830%2Fr%2Fs%2Faws4_request",
    ]
) | st.text(max_size=10)


any_text = st.text(
    alphabet=st.characters() | st.sampled_from(["\udc80", "\udcff", "\ud800", "\n", "%", "+"]),
    max_size=20,
)
VALID_AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32
)
VALID_QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts"
    "%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=" + "ab" * 32
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` unchanged, or with a random slice replaced by random text."""
    if draw(st.booleans()):
        return text
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return text[:start] + draw(any_text) + text[end:]


@st.composite
def arbitrary_requests(draw: st.DrawFn) -> HttpRequest:
    names = st.sampled_from(
        ["Authorization", "X-Amz-Date", "x-amz-security-token", "Host", "x-amz-content-sha256"]
    )
    headers = draw(st.lists(st.tuples(names, auth_values | any_text), max_size=4))
    query = draw(st.lists(st.tuples(query_keys, query_values), max_size=7))
    raw_query = "&".join(f"{key}={value}" for key, value in query)
    form = draw(st.sampled_from(["arbitrary", "header", "query"]))
    if form == "header":
        headers += [
            ("Authorization", draw(mutated(VALID_AUTHORIZATION))),
            ("X-Amz-Date", draw(mutated("20150830T123600Z"))),
        ]
        raw_query = draw(any_text)
    elif form == "query":
        raw_query = draw(mutated(VALID_QUERY))
    headers.append(("Host", draw(any_text)))
    return HttpRequest(
        draw(any_text), draw(any_text), raw_query, tuple(headers), draw(st.binary(max_size=8))
    )


@settings(max_examples=500, deadline=None)
@given(request=arbitrary_requests())
def test_parsing_and_verifying_arbitrary_input_only_raises_webfed_errors(
    request: HttpRequest,
) -> None:
    try:
        parsed = parse_authorization(request)
    except WebfedError:
        return
    for rules in (STANDARD_RULES, S3_RULES):
        with pytest.raises(WebfedError):
            verify_request(request, parsed, "secret", now=parsed.signed_at, rules=rules)
